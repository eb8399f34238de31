module github.com/payoutflow/payoutflow/client

go 1.23
