module demo-orq/images/frontend

go 1.22
