// Peer of `zell_vs_go pingpong`: round trips between two goroutines through capacity-1
// channels, as zell's side uses.
package main

import (
	"fmt"
	"runtime"
	"sort"
	"time"
)

func main() {
	runtime.GOMAXPROCS(runtime.NumCPU())
	const rounds = 100000
	a := make(chan int, 1)
	b := make(chan int, 1)
	go func() {
		for i := 0; i < rounds; i++ {
			v := <-a
			b <- v
		}
	}()
	samples := make([]int64, 0, rounds)
	for i := 0; i < rounds; i++ {
		start := time.Now()
		a <- i
		<-b
		samples = append(samples, time.Since(start).Nanoseconds())
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	fmt.Printf("rtt_p50_ns %d\nrtt_p99_ns %d\n", samples[len(samples)/2], samples[len(samples)*99/100])
}
