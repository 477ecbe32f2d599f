// Peer of `zell_vs_go yield`: one goroutine calls runtime.Gosched() 1M times (back through the
// run queue each time) on an otherwise idle runtime; prints the mean cost of one.
package main

import (
	"fmt"
	"runtime"
	"time"
)

func roundTripNs(n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		runtime.Gosched()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

func main() {
	runtime.GOMAXPROCS(runtime.NumCPU())
	done := make(chan float64)
	go func() {
		roundTripNs(10000) // warm-up
		done <- roundTripNs(1000000)
	}()
	fmt.Printf("yield_ns %.1f\n", <-done)
}
