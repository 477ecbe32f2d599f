// Peer of `zell_vs_go fib`: fork-join fib(30), one goroutine per left branch.
package main

import (
	"fmt"
	"syscall"
	"time"
)

func fib(n uint) uint64 {
	if n < 2 {
		return uint64(n)
	}
	c := make(chan uint64, 1)
	go func() { c <- fib(n - 1) }()
	right := fib(n - 2)
	return <-c + right
}

func main() {
	start := time.Now()
	v := fib(30)
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("total_ms %.1f\npeak_rss_kb %d\nresult %d\n", ms, ru.Maxrss, v)
}
