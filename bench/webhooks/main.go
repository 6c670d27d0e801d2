// Command webhooks measures outbound webhook delivery end to end on the embedded Temporal server
// with one worker: events committed in Postgres (customer.created, written in the customer's
// transaction), the worker's relay reading the outbox and waking the endpoint's workflow, whose
// batch activity signs and POSTs them to a receiver on loopback. It reports deliveries a second
// for a burst of -events committed as fast as they can be (and the rate of those commits, which
// the deliveries cannot outrun), the latency from each event's commit (its createdAt) to the
// receiver's 2xx — in the burst, and in a paced run below saturation — beside the rate at which
// the same receiver takes plain POSTs from a tight Go loop, and the ratio of the two, and beside
// the rate of an empty workflow on the same server. It starts its own throwaway Postgres
// cluster and Temporal server and removes them after.
//
//	go run ./bench/webhooks [-events 10000] [-plain 10000] [-empty 2000] [-concurrency 16] [-paced-rate 0] [-paced-seconds 10] [-mem] [-cpuprofile file]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/benchenv"
	"github.com/tollgate-billing/tollgate/webhooks"
)

type config struct {
	events       int
	plain        int
	empty        int
	concurrency  int
	pacedRate    float64
	pacedSeconds int
	memory       bool
	cpuProfile   string
}

func main() {
	var c config
	flag.IntVar(&c.events, "events", 10_000, "events committed at once and delivered (the burst)")
	flag.IntVar(&c.plain, "plain", 10_000, "plain POSTs of the receiver's baseline")
	flag.IntVar(&c.empty, "empty", 2000, "empty workflows for the Temporal server's baseline rate")
	flag.IntVar(&c.concurrency, "concurrency", 16, "concurrent writers of events, and concurrent plain POSTs")
	flag.Float64Var(&c.pacedRate, "paced-rate", 0, "events a second of the paced latency run (0: half the burst's delivery rate)")
	flag.IntVar(&c.pacedSeconds, "paced-seconds", 10, "length of the paced latency run (0: none)")
	flag.BoolVar(&c.memory, "mem", false, "keep the Temporal server's SQLite in memory (default: a file, as tollgate dev)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the burst (this process: the Temporal server, the worker, the relay, the receiver) to this file")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench webhooks:", err)
		os.Exit(1)
	}
}

// receiver is the merchant's endpoint on loopback: it answers 204 at once and notes when each
// event first got its 2xx.
type receiver struct {
	mu    sync.Mutex
	got   map[string]time.Time // webhook-id → first 2xx
	posts int
	dupes int
	plain int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	now := time.Now()
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	if strings.HasPrefix(id, domain.PrefixEvent+"_") {
		rc.posts++
		if _, ok := rc.got[id]; ok {
			rc.dupes++
		} else {
			rc.got[id] = now
		}
	} else {
		rc.plain++
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

type world struct {
	*benchenv.Env
	rc       *receiver
	url      string
	merchant string
}

func run(ctx context.Context, c config, out io.Writer) error {
	env, err := benchenv.Start(ctx, benchenv.Options{Name: "webhooks", MemoryTemporal: c.memory})
	if err != nil {
		return err
	}
	defer env.Stop()
	w := &world{Env: env, rc: &receiver{got: map[string]time.Time{}}}
	srv := httptest.NewServer(w.rc)
	defer srv.Close()
	w.url = srv.URL + "/hooks"
	m, _, err := env.Store.CreateMerchant(ctx, "Bench")
	if err != nil {
		return err
	}
	w.merchant = m.Ref
	if _, err := env.Store.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: m.Ref, Mode: domain.ModeSandbox,
		URL: w.url, EnabledEvents: []string{domain.EventCustomerCreated}, Enabled: true}, webhooks.NewSecret()); err != nil {
		return err
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		(&webhooks.Relay{Store: env.Store, Temporal: env.Client}).Run(relayCtx)
	}()
	defer func() { stopRelay(); <-relayed }()
	fmt.Fprintf(out, "webhooks bench: embedded Temporal (%s), one worker and its relay, receiver on %s, %d CPUs, load %s\n",
		env.Mode, srv.URL, runtime.NumCPU(), benchenv.LoadAvg())

	plain, err := w.plainPosts(ctx, c)
	if err != nil {
		return fmt.Errorf("plain POSTs: %w", err)
	}
	took, err := env.EmptyWorkflows(ctx, "webhooks", c.empty, 32)
	if err != nil {
		return fmt.Errorf("empty workflows: %w", err)
	}
	empty := result{name: "empty workflow, start to finish (32 callers)", count: c.empty, took: took, p50: "-", p99: "-"}
	stopProfile, err := benchenv.CPUProfile(c.cpuProfile)
	if err != nil {
		return err
	}
	burst, err := w.deliver(ctx, c.events, func(i int) error { return w.event(ctx) }, c.concurrency)
	stopProfile()
	if err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	burst.name = fmt.Sprintf("deliveries, %d events committed at once", c.events)
	commits := fmt.Sprintf("the burst's events were committed at %.0f/s by %d writers: the deliveries cannot outrun them\n",
		float64(c.events)/burst.wrote.Seconds(), c.concurrency)
	results := []result{plain, empty, burst}
	if c.pacedSeconds > 0 {
		rate := c.pacedRate
		if rate <= 0 {
			rate = burst.rate() / 2
		}
		n := max(1, int(rate*float64(c.pacedSeconds)))
		paced, err := w.deliver(ctx, n, pace(ctx, rate, func() error { return w.event(ctx) }), 1) // one writer: in order
		if err != nil {
			return fmt.Errorf("paced: %w", err)
		}
		paced.name = fmt.Sprintf("deliveries, paced at %.0f events/s", rate)
		results = append(results, paced)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tcount\tseconds\tper second\tvs plain POSTs\tvs empty workflow\tp50 commit→2xx\tp99 commit→2xx\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.3f\t%.2f\t%s\t%s\t\n", r.name, r.count, r.took.Seconds(), r.rate(),
			r.rate()/plain.rate(), r.rate()/empty.rate(), r.p50, r.p99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(out, commits)
	w.rc.mu.Lock()
	fmt.Fprintf(out, "receiver: %d deliveries, %d duplicates; load average at the end (1, 5, 15 min): %s — on a shared box the figures are bound by it\n",
		w.rc.posts, w.rc.dupes, benchenv.LoadAvg())
	w.rc.mu.Unlock()
	return nil
}

type result struct {
	name     string
	count    int
	took     time.Duration
	wrote    time.Duration // committing the events, first to last
	p50, p99 string
}

func (r result) rate() float64 { return float64(r.count) / r.took.Seconds() }

// event commits one customer.created event (the customer and its event in one transaction).
func (w *world) event(ctx context.Context) error {
	_, err := w.Store.CreateCustomer(ctx, domain.Customer{MerchantRef: w.merchant, Email: "bench@example.com", Name: "Bench Customer"})
	return err
}

// plainPosts is the receiver's baseline: the same kind of POST (an event-sized JSON body) from a
// tight loop of -concurrency goroutines sharing one keep-alive client.
func (w *world) plainPosts(ctx context.Context, c config) (result, error) {
	body := bytes.Repeat([]byte("x"), 700)
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency}}
	began := time.Now()
	err := benchenv.Parallel(ctx, c.plain, c.concurrency, func(i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", fmt.Sprintf("plain_%d", i))
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("plain POST: %s", res.Status)
		}
		return nil
	})
	return result{name: "plain POSTs from a Go loop", count: c.plain, took: time.Since(began), p50: "-", p99: "-"}, err
}

// deliver commits n events with write (on `writers` goroutines), waits until the receiver has
// every one of them, and measures from the first commit to the last 2xx, with each event's
// latency from its commit to its 2xx.
func (w *world) deliver(ctx context.Context, n int, write func(i int) error, writers int) (result, error) {
	var since time.Time
	if err := w.Store.Pool.QueryRow(ctx, `SELECT now()`).Scan(&since); err != nil {
		return result{}, err
	}
	before := w.rc.count()
	began := time.Now()
	if err := benchenv.Parallel(ctx, n, writers, write); err != nil {
		return result{}, err
	}
	wrote := time.Since(began)
	deadline := time.Now().Add(10 * time.Minute)
	for w.rc.count() < before+n {
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("%d of %d events delivered after 10 minutes", w.rc.count()-before, n)
		}
		select {
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	rows, err := w.Store.Pool.Query(ctx, `SELECT id, created_at FROM events WHERE merchant_id = $1 AND type = $2
		AND created_at >= $3`, w.merchant, domain.EventCustomerCreated, since)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	var first, last time.Time
	var lat []time.Duration
	w.rc.mu.Lock()
	for rows.Next() {
		var id string
		var created time.Time
		if err := rows.Scan(&id, &created); err != nil {
			w.rc.mu.Unlock()
			return result{}, err
		}
		got, ok := w.rc.got[id]
		if !ok {
			continue
		}
		if first.IsZero() || created.Before(first) {
			first = created
		}
		if got.After(last) {
			last = got
		}
		lat = append(lat, got.Sub(created))
	}
	w.rc.mu.Unlock()
	if err := rows.Err(); err != nil {
		return result{}, err
	}
	if len(lat) != n {
		return result{}, fmt.Errorf("%d events committed, %d delivered", n, len(lat))
	}
	return result{count: n, took: last.Sub(first), wrote: wrote, p50: ms(benchenv.Percentile(lat, 50)), p99: ms(benchenv.Percentile(lat, 99))}, nil
}

// pace spaces the calls of write at rate a second: call i waits until i/rate seconds after the
// first (a call that runs late is not made up for by a burst).
func pace(ctx context.Context, rate float64, write func() error) func(i int) error {
	var start time.Time
	return func(i int) error {
		if i == 0 {
			start = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second))))):
		}
		return write()
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
