module demo-orq/images/rules-loader

go 1.22
