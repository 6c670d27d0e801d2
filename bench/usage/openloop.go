package main

import (
	"context"
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
	var firstErr atomic.Value // any failure fails the run (a closed loop counts them instead)
	var wg sync.WaitGroup
	begin := time.Now().Add(10 * time.Millisecond)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := newLoadConn(w.addr, w.key)
			defer conn.close()
			for i := range due {
				err := conn.send(req(i))
				lat[i] = time.Since(released[i])
				if err != nil {
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
	return w.summarise(lat, elapsed, 0, cpu0), nil
}
