module zellbench

go 1.19
