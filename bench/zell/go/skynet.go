// Peer of `zell_vs_go skynet`: the skynet benchmark, 1M leaf goroutines, 10-ary tree.
package main

import (
	"fmt"
	"syscall"
	"time"
)

func skynet(c chan uint64, num uint64, size uint64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan uint64, 10)
	step := size / 10
	for i := uint64(0); i < 10; i++ {
		go skynet(rc, num+i*step, step)
	}
	var sum uint64
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	c <- sum
}

func main() {
	start := time.Now()
	c := make(chan uint64, 1)
	go skynet(c, 0, 1000000)
	result := <-c
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("total_ms %.1f\npeak_rss_kb %d\nresult %d\n", ms, ru.Maxrss, result)
}
