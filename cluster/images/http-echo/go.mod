module demo-orq/images/http-echo

go 1.22
