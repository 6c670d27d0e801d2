package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// openLoop sends n requests at a fixed rate, whatever the answers' pace, from up to conns
// connections, and measures each latency from the moment its request was released: when every
// connection is busy, the wait for one counts (no coordinated omission); the release timer's
// own lateness does not (it is the load generator's, not the server's). This is the
// latency a service sees at that load; a closed loop of many clients on 2 cores mostly
// measures its own queue (mean latency = clients / throughput).
func openLoop(ctx context.Context, w *world, n, rate, conns int, req func(int) (string, []byte)) (result, error) {
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, n)
	released := make([]time.Time, n)
	due := make(chan int, n)
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	begin := time.Now().Add(10 * time.Millisecond)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := newLoadConn(w.addr, w.key)
			defer conn.close()
			for i := range due {
				path, body := req(i)
				status, b, err := conn.post(path, body)
				if err == nil && status/100 != 2 {
					err = fmt.Errorf("%s: %d %s", path, status, b)
				}
				lat[i] = time.Since(released[i])
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	cpu0 := w.cpu.now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * interval)))
		released[i] = time.Now()
		due <- i
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(begin)
	if e := firstErr.Load(); e != nil {
		return result{}, e.(error)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{rate: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], errors: failed.Load()}
	r.cpu, r.pgShare = w.cpu.now().per(cpu0, n)
	return r, nil
}
