module example.com/reportsclient

go 1.19
