// Peer of `zell_vs_go spawn_join`: 1M empty goroutines spawned, then all joined (WaitGroup).
package main

import (
	"fmt"
	"sync"
	"syscall"
	"time"
)

func run(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
}

func main() {
	run(10000)
	start := time.Now()
	run(1000000)
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("total_ms %.1f\npeak_rss_kb %d\n", ms, ru.Maxrss)
}
