// Peer of `zell_vs_go timer`: 1ms sleeps on an idle runtime (error p50/p99), timer arm+stop rate.
package main

import (
	"fmt"
	"sort"
	"time"
)

func main() {
	errs := make([]int64, 0, 1000)
	for i := 0; i < 1000; i++ {
		deadline := time.Now().Add(time.Millisecond)
		time.Sleep(time.Until(deadline))
		errs = append(errs, time.Since(deadline).Nanoseconds())
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i] < errs[j] })
	const n = 10000000
	start := time.Now()
	for i := 0; i < n; i++ {
		t := time.AfterFunc(time.Second, func() {})
		t.Stop()
	}
	rate := float64(n) / time.Since(start).Seconds()
	fmt.Printf("err_p50_us %.1f\nerr_p99_us %.1f\narm_cancel_per_s %.0f\n",
		float64(errs[len(errs)/2])/1000, float64(errs[len(errs)*99/100])/1000, rate)
}
