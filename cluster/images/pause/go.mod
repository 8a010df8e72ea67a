module demo-orq/images/pause

go 1.22
