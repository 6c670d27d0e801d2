// Command usage measures the usage hot path on loopback: bulk ingest beside raw COPY, single
// record_usage under concurrent HTTP load, and check_limits beside `pgbench -S` on the same
// Postgres. It starts its own throwaway Postgres cluster and API server and removes them after.
//
//	go run ./bench/usage [-events 200000] [-requests 20000] [-workers 32]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

type config struct {
	events, batch, bulkWorkers int
	requests, workers          int
	latencyWorkers             int
	customers                  int
	pgbenchSeconds             int
	durable                    bool
}

func main() {
	var c config
	flag.IntVar(&c.events, "events", 200_000, "events ingested by the bulk run")
	flag.IntVar(&c.batch, "batch", store.MaxBulkEvents, "events per bulk call")
	flag.IntVar(&c.bulkWorkers, "bulk-workers", 4, "concurrent bulk callers (and COPY writers)")
	flag.IntVar(&c.requests, "requests", 20_000, "requests per single-call run")
	flag.IntVar(&c.workers, "workers", 32, "concurrent HTTP clients for single calls")
	flag.IntVar(&c.latencyWorkers, "latency-workers", 2, "concurrent clients of the low-load check_limits latency run")
	flag.IntVar(&c.customers, "customers", 1000, "customers the load spreads over")
	flag.IntVar(&c.pgbenchSeconds, "pgbench-seconds", 10, "length of the pgbench -S run")
	flag.BoolVar(&c.durable, "durable", false, "keep fsync and synchronous_commit on (default: a throwaway cluster, as in tests)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/usage:", err)
		os.Exit(1)
	}
}

// world is the running system under test.
type world struct {
	pg       *devenv.Postgres
	st       *store.Store
	baseURL  string
	key      string
	merchant string
	product  string
	refs     []string // customers: half by cus_ reference, half by the merchant's externalRef
	client   *http.Client
}

func run(ctx context.Context, c config, out io.Writer) error {
	w, stop, err := start(ctx, c)
	if err != nil {
		return err
	}
	defer stop()

	fmt.Fprintf(out, "bench/usage: %d CPUs, Postgres in %s (%s), API on %s\n", runtime.NumCPU(), w.pg.BinDir(),
		map[bool]string{true: "durable", false: "throwaway: fsync off"}[c.durable], w.baseURL)
	bulk, err := benchBulk(ctx, w, c)
	if err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	raw, err := benchCopy(ctx, w, c)
	if err != nil {
		return fmt.Errorf("raw copy: %w", err)
	}
	single, err := benchHTTP(ctx, w, c.requests, c.workers, recordBody)
	if err != nil {
		return fmt.Errorf("record_usage: %w", err)
	}
	check, err := benchHTTP(ctx, w, c.requests, c.workers, limitsBody)
	if err != nil {
		return fmt.Errorf("check_limits: %w", err)
	}
	checkLow, err := benchHTTP(ctx, w, c.requests/2, c.latencyWorkers, limitsBody)
	if err != nil {
		return fmt.Errorf("check_limits at low load: %w", err)
	}
	tps, err := pgbench(ctx, w.pg, c)
	if err != nil {
		return fmt.Errorf("pgbench: %w", err)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nmeasure\tthroughput\tp50\tp99\tbeside\taim")
	fmt.Fprintf(tw, "bulk ingest (HTTP, %d/call, %d callers)\t%s events/s\t%s\t%s\traw pgx CopyFrom %s events/s: ratio %.2f\t>= 50,000 events/s, ratio >= 0.5\n",
		c.batch, c.bulkWorkers, num(bulk.rate), ms(bulk.p50), ms(bulk.p99), num(raw.rate), bulk.rate/raw.rate)
	fmt.Fprintf(tw, "record_usage (single, %d clients)\t%s req/s\t%s\t%s\t%d errors\t>= 8,000 req/s, p99 < 10 ms\n",
		c.workers, num(single.rate), ms(single.p50), ms(single.p99), single.errors)
	fmt.Fprintf(tw, "check_limits (%d clients)\t%s req/s\t%s\t%s\tpgbench -S -c %d: %s tps: ratio %.2f\tp99 < 1 ms\n",
		c.workers, num(check.rate), ms(check.p50), ms(check.p99), c.workers, num(tps), check.rate/tps)
	fmt.Fprintf(tw, "check_limits (%d clients, latency)\t%s req/s\t%s\t%s\t\tp99 < 1 ms\n",
		c.latencyWorkers, num(checkLow.rate), ms(checkLow.p50), ms(checkLow.p99))
	return tw.Flush()
}

// start brings up Postgres, the schema, a merchant with customers, a product whose default plan
// admits everything (so every check runs the full decision), and the API on loopback.
func start(ctx context.Context, c config) (*world, func(), error) {
	dir, err := os.MkdirTemp("", "tollgate-bench")
	if err != nil {
		return nil, nil, err
	}
	port, err := devenv.FreePort()
	if err != nil {
		return nil, nil, err
	}
	pg, err := devenv.StartPostgres(ctx, devenv.PostgresConfig{Dir: filepath.Join(dir, "pg"), Port: port, Database: "tollgate", Throwaway: !c.durable})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	var cleanups []func()
	stop := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		pg.Stop()
		os.RemoveAll(dir)
	}
	st, err := store.Open(ctx, pg.URL()+"&pool_max_conns=32")
	if err != nil {
		stop()
		return nil, nil, err
	}
	cleanups = append(cleanups, st.Close)
	if err := st.Migrate(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	w := &world{pg: pg, st: st}
	if err := seed(ctx, w, c); err != nil {
		stop()
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return nil, nil, err
	}
	srv := &http.Server{Handler: api.New(api.Config{Store: st}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	cleanups = append(cleanups, func() { srv.Close() })
	w.baseURL = "http://" + ln.Addr().String()
	w.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	return w, stop, nil
}

func seed(ctx context.Context, w *world, c config) error {
	m, key, err := w.st.CreateMerchant(ctx, "Bench")
	if err != nil {
		return err
	}
	w.merchant, w.key = m.Ref, key
	prd, err := w.st.CreateProduct(ctx, domain.Product{MerchantRef: m.Ref, Name: "bench-api"})
	if err != nil {
		return err
	}
	w.product = prd.Ref
	pln, err := w.st.CreatePlan(ctx, domain.Plan{MerchantRef: m.Ref, ProductRef: prd.Ref, Name: "PAYG", Type: domain.PlanUsageBased,
		BillingCycle: domain.CycleMonthly, FreeUnits: 1 << 40, UnitPrice: 1, Meter: "api_requests"})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	end := now.AddDate(0, 1, 0)
	for i := range c.customers {
		cu, err := w.st.CreateCustomer(ctx, domain.Customer{MerchantRef: m.Ref, Email: fmt.Sprintf("c%d@bench.test", i), ExternalRef: fmt.Sprintf("user_%d", i)})
		if err != nil {
			return err
		}
		if i%2 == 0 {
			w.refs = append(w.refs, cu.Ref)
			// half the customers pay, half live on the default plan's free allowance
			if _, err := w.st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef(domain.PrefixPurchase), MerchantRef: m.Ref,
				CustomerRef: cu.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref, Status: domain.PurchaseActive, PlanType: domain.PlanUsageBased,
				Currency: "USD", CurrentPeriodStart: &now, CurrentPeriodEnd: &end, Seq: 1}); err != nil {
				return err
			}
		} else {
			w.refs = append(w.refs, cu.ExternalRef)
		}
	}
	_, err = w.st.Pool.Exec(ctx, "ANALYZE")
	return err
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	errors   int64
}

// benchBulk posts c.events events in calls of c.batch from c.bulkWorkers callers.
func benchBulk(ctx context.Context, w *world, c config) (result, error) {
	var bodies [][]byte
	for n := 0; n < c.events; n += c.batch {
		var b bytes.Buffer
		b.WriteString(`{"events":[`)
		for i := n; i < min(n+c.batch, c.events); i++ {
			if i > n {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"customerRef":%q,"productRef":%q,"actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"bulk-%d","metadata":{"route":"/v1/chat"}}`,
				w.refs[i%len(w.refs)], w.product, i)
		}
		b.WriteString(`]}`)
		bodies = append(bodies, b.Bytes())
	}
	r, err := load(ctx, w, len(bodies), c.bulkWorkers, func(i int) (string, []byte) { return "/v1/usages/bulk", bodies[i] })
	if err != nil {
		return r, err
	}
	if r.errors > 0 {
		return r, fmt.Errorf("%d bulk calls failed", r.errors)
	}
	r.rate *= float64(c.events) / float64(len(bodies)) // calls/s → events/s
	var n int
	if err := w.st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE idempotency_key LIKE 'bulk-%'`).Scan(&n); err != nil || n != c.events {
		return r, fmt.Errorf("stored %d of %d events (%v)", n, c.events, err)
	}
	return r, nil
}

// benchCopy writes the same rows with raw pgx CopyFrom into a table identical to usage_events
// (same columns, keys and indexes), in the same batches from as many writers.
func benchCopy(ctx context.Context, w *world, c config) (result, error) {
	if _, err := w.st.Pool.Exec(ctx, `CREATE TABLE bench_raw_events (LIKE usage_events INCLUDING ALL)`); err != nil {
		return result{}, err
	}
	cols := []string{"id", "merchant_id", "customer_id", "product_id", "meter_name", "action_type", "units", "outcome",
		"idempotency_key", "occurred_at", "metadata"}
	var batches [][][]any
	now := time.Now()
	for n := 0; n < c.events; n += c.batch {
		var rows [][]any
		for i := n; i < min(n+c.batch, c.events); i++ {
			rows = append(rows, []any{domain.NewRef(domain.PrefixUsage), w.merchant, w.refs[i%len(w.refs)], w.product, "api_requests",
				"api_call", int64(1), "success", fmt.Sprintf("bulk-%d", i), now, map[string]string{"route": "/v1/chat"}})
		}
		batches = append(batches, rows)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.bulkWorkers)
	begin := time.Now()
	for range c.bulkWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) {
					return
				}
				if _, err := w.st.Pool.CopyFrom(ctx, pgx.Identifier{"bench_raw_events"}, cols, pgx.CopyFromRows(batches[i])); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	return result{rate: float64(c.events) / elapsed.Seconds()}, nil
}

func recordBody(w *world, i int) (string, []byte) {
	return "/v1/usages", fmt.Appendf(nil, `{"customerRef":%q,"productRef":%q,"actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"single-%d"}`,
		w.refs[(i*7919)%len(w.refs)], w.product, i)
}

func limitsBody(w *world, i int) (string, []byte) {
	return "/v1/limits", fmt.Appendf(nil, `{"customerRef":%q,"productRef":%q}`, w.refs[(i*7919)%len(w.refs)], w.product)
}

// benchHTTP sends n requests built by body from workers concurrent clients.
func benchHTTP(ctx context.Context, w *world, n, workers int, body func(*world, int) (string, []byte)) (result, error) {
	// warm the connections and the statement caches, untimed
	if _, err := load(ctx, w, workers*20, workers, func(i int) (string, []byte) { return body(w, n+i) }); err != nil {
		return result{}, err
	}
	return load(ctx, w, n, workers, func(i int) (string, []byte) { return body(w, i) })
}

// load runs n POSTs from workers goroutines and measures rate and latency percentiles.
func load(ctx context.Context, w *world, n, workers int, req func(int) (string, []byte)) (result, error) {
	lat := make([]time.Duration, n)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				path, body := req(i)
				t0 := time.Now()
				hr, _ := http.NewRequestWithContext(ctx, "POST", w.baseURL+path, bytes.NewReader(body))
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("X-API-KEY", w.key)
				resp, err := w.client.Do(hr)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						err = fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if e := firstErr.Load(); e != nil && failed.Load() == int64(n) {
		return result{}, e.(error)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{rate: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], errors: failed.Load()}, nil
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs `pgbench -S` (select-only, prepared) on a database of its own on the same cluster.
func pgbench(ctx context.Context, pg *devenv.Postgres, c config) (float64, error) {
	admin, err := pgxpool.New(ctx, pg.AdminURL())
	if err != nil {
		return 0, err
	}
	_, err = admin.Exec(ctx, `CREATE DATABASE pgbench`)
	admin.Close()
	if err != nil {
		return 0, err
	}
	bin := filepath.Join(pg.BinDir(), "pgbench")
	conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(pg.Port()), "-U", "postgres"}
	if outp, err := exec.CommandContext(ctx, bin, append(append([]string{"-i", "-q", "-s", "10"}, conn...), "pgbench")...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w\n%s", err, outp)
	}
	args := append([]string{"-S", "-n", "-M", "prepared", "-c", strconv.Itoa(c.workers), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(c.pgbenchSeconds)}, conn...)
	outp, err := exec.CommandContext(ctx, bin, append(args, "pgbench")...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench -S: %w\n%s", err, outp)
	}
	m := tpsRe.FindSubmatch(outp)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench output:\n%s", outp)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func num(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
