module demo-orq/images/netcheck

go 1.22
