module demo-orq/images/jobs

go 1.22
