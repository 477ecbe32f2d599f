module zap/loadtest/echo

go 1.19
