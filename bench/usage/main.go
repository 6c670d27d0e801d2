// Command usage measures the usage hot path on loopback: bulk ingest beside raw COPY, single
// record_usage under concurrent HTTP load, and check_limits (closed loops of -workers and
// -latency-workers clients, and an open loop at -rate requests a second) beside `pgbench -S` on
// the same Postgres. It starts its own throwaway Postgres cluster and API server and removes
// them after.
//
//	go run ./bench/usage [-events 200000] [-requests 20000] [-workers 32] [-rate 2000]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/benchenv"
	"github.com/tollgate-billing/tollgate/internal/httpserver"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

type config struct {
	events, batch, bulkWorkers int
	requests, workers          int
	latencyWorkers, fixedRate  int
	customers                  int
	poolConns                  int
	pgbenchSeconds             int
	durable                    bool
	cpuProfile                 string
}

func main() {
	var c config
	flag.IntVar(&c.events, "events", 200_000, "events ingested by the bulk run")
	flag.IntVar(&c.batch, "batch", usage.MaxBulkEvents, "events per bulk call")
	flag.IntVar(&c.bulkWorkers, "bulk-workers", 4, "concurrent bulk callers (and COPY writers)")
	flag.IntVar(&c.requests, "requests", 20_000, "requests per single-call run")
	flag.IntVar(&c.workers, "workers", 32, "concurrent HTTP clients for single calls")
	flag.IntVar(&c.latencyWorkers, "latency-workers", 2, "concurrent clients of the low-load check_limits latency run")
	flag.IntVar(&c.fixedRate, "rate", 2000, "requests per second of the open-loop check_limits latency run")
	flag.IntVar(&c.customers, "customers", 1000, "customers the load spreads over")
	flag.IntVar(&c.poolConns, "pool", 32, "Postgres connections of the API server's pool")
	flag.IntVar(&c.pgbenchSeconds, "pgbench-seconds", 10, "length of the pgbench -S run")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (client and server) to this file")
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
	cpu      cpuMeter
	st       *store.Store
	usage    *usage.Engine
	key      string
	merchant string
	product  string
	refs     []string // customers: half by cus_ reference, half by the merchant's externalRef
	addr     string   // the API's host:port
}

func run(ctx context.Context, c config, out io.Writer) error {
	w, stop, err := start(ctx, c)
	if err != nil {
		return err
	}
	defer stop()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	load0 := benchenv.LoadAvg()
	fmt.Fprintf(out, "bench/usage: %d CPUs, Postgres in %s (%s), API on http://%s, pool of %d connections\n", runtime.NumCPU(),
		w.pg.BinDir(), map[bool]string{true: "durable", false: "throwaway: fsync off"}[c.durable], w.addr, c.poolConns)
	// measure runs one timed run and then settles, so that its aftermath is not the next run's;
	// after a failure it runs nothing more and err says which run failed.
	measure := func(what string, f func() (result, error)) result {
		if err != nil {
			return result{}
		}
		r, ferr := f()
		if ferr != nil {
			err = fmt.Errorf("%s: %w", what, ferr)
			return r
		}
		err = settle(ctx, w)
		return r
	}
	bulk := measure("bulk", func() (result, error) { return benchBulk(ctx, w, c) })
	raw := measure("raw copy", func() (result, error) { return benchCopy(ctx, w, c) })
	single := measure("record_usage", func() (result, error) { return benchHTTP(ctx, w, c.requests, c.workers, recordBody) })
	check := measure("check_limits", func() (result, error) { return benchHTTP(ctx, w, c.requests, c.workers, limitsBody) })
	checkLow := measure("check_limits at low load", func() (result, error) {
		return benchHTTP(ctx, w, c.requests/2, c.latencyWorkers, limitsBody)
	})
	checkFixed := measure("check_limits at a fixed rate", func() (result, error) {
		return openLoop(ctx, w, c.fixedRate*5, c.fixedRate, 64, func(i int) (string, []byte) { return limitsBody(w, i) })
	})
	if err != nil {
		return err
	}
	pgb, err := pgbench(ctx, w, c)
	if err != nil {
		return fmt.Errorf("pgbench: %w", err)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nload average before: %s\n", load0)
	fmt.Fprintln(tw, "measure\tthroughput\tp50\tp99\tCPU/op\tin Postgres\tper CPU-second\tbeside\taim")
	row := func(name string, r result, unit, beside, aim string) {
		fmt.Fprintf(tw, "%s\t%s %s/s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\n", name, num(r.rate), unit, ms(r.p50), ms(r.p99), us(r.cpu),
			100*r.pgShare, num(r.perCPU()), beside, aim)
	}
	row(fmt.Sprintf("bulk ingest (HTTP, %d/call, %d callers)", c.batch, c.bulkWorkers), bulk, "events",
		fmt.Sprintf("ratio to raw COPY %.2f (by CPU %.2f)", bulk.rate/raw.rate, bulk.perCPU()/raw.perCPU()), ">= 50,000 events/s, ratio >= 0.5")
	row(fmt.Sprintf("raw pgx CopyFrom (%d/batch, %d writers)", c.batch, c.bulkWorkers), raw, "events", "", "")
	row(fmt.Sprintf("record_usage (single, %d clients)", c.workers), single, "req", fmt.Sprintf("%d errors", single.errors), ">= 8,000 req/s, p99 < 10 ms")
	row(fmt.Sprintf("check_limits (%d clients)", c.workers), check, "req",
		fmt.Sprintf("ratio to pgbench -S %.2f (by CPU %.2f)", check.rate/pgb.rate, check.perCPU()/pgb.perCPU()), "p99 < 1 ms")
	row(fmt.Sprintf("check_limits (%d clients)", c.latencyWorkers), checkLow, "req", "", "p99 < 1 ms")
	row(fmt.Sprintf("check_limits (open loop, %d/s)", c.fixedRate), checkFixed, "req", "latency from each request's release", "p99 < 1 ms")
	row(fmt.Sprintf("pgbench -S -M prepared -c %d", c.workers), pgb, "tps", "", "")
	fast, full := w.usage.Paths()
	fmt.Fprintf(tw, "usage calls on the fast path: %d, on the full statements: %d\n", fast, full)
	fmt.Fprintf(tw, "load average after: %s\n", benchenv.LoadAvg())
	fmt.Fprintln(tw, "CPU/op counts this process (API server and load generator) and all of Postgres; pgbench counts its client and Postgres.")
	return tw.Flush()
}

// settle vacuums, analyses and checkpoints between runs (untimed), so that autovacuum and the
// checkpointer catching up on one run do not land in the next one's figures.
func settle(ctx context.Context, w *world) error {
	for _, q := range []string{"VACUUM ANALYZE", "CHECKPOINT"} {
		if _, err := w.st.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("settle: %s: %w", q, err)
		}
	}
	return nil
}

// start brings up Postgres, the schema, a merchant with customers, a product whose default plan
// admits everything (so every check runs the full decision), and the API on loopback.
func start(ctx context.Context, c config) (*world, func(), error) {
	port, err := devenv.FreePort()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "tollgate-bench")
	if err != nil {
		return nil, nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // MkdirTemp's 0700 would keep postgres out
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
	st, err := store.Open(ctx, pg.URL()+fmt.Sprintf("&pool_max_conns=%d", c.poolConns))
	if err != nil {
		stop()
		return nil, nil, err
	}
	cleanups = append(cleanups, st.Close)
	if err := st.Migrate(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	w := &world{pg: pg, st: st, usage: usage.New(st.Pool), cpu: cpuMeter{postmaster: postmasterPID(filepath.Join(dir, "pg", "data"))}}
	if err := seed(ctx, w, c); err != nil {
		stop()
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return nil, nil, err
	}
	// as `tollgate api` runs it: keys remembered while it listens for their changes, and each
	// key's rate limit checked (set above what the load sends, so that it is measured, not met)
	a := api.New(api.Config{Store: st, Usage: w.usage, KeyRate: 1e7})
	watchCtx, stopWatch := context.WithCancel(ctx)
	go a.WatchKeys(watchCtx)
	srv := httpserver.New(a, httpserver.Default)
	go srv.Serve(ln)
	cleanups = append(cleanups, func() { srv.Close(); stopWatch() })
	w.addr = ln.Addr().String()
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
	// cpu is the CPU time per operation of this process (server and load generator) plus every
	// Postgres process: a figure the other load on a shared box does not distort.
	cpu time.Duration
	// pgShare is the part of cpu spent in Postgres.
	pgShare float64
}

// perCPU is how many operations one fully busy core would do at r's cost.
func (r result) perCPU() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(time.Second) / float64(r.cpu)
}

// cpuMeter reads the CPU time used so far by this process and by the Postgres cluster.
type cpuMeter struct{ postmaster int }

func (m cpuMeter) now() cpuTime {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cpuTime{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), pg: m.postgres()}
}

type cpuTime struct{ self, pg time.Duration }

// per is the CPU time per operation since t0, and Postgres' share of it.
func (t cpuTime) per(t0 cpuTime, n int) (time.Duration, float64) {
	self, pg := t.self-t0.self, t.pg-t0.pg
	if self+pg <= 0 || n == 0 {
		return 0, 0
	}
	return (self + pg) / time.Duration(n), float64(pg) / float64(self+pg)
}

// postgres sums utime+stime of the postmaster, its live children and its reaped children.
func (m cpuMeter) postgres() time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	var ticks int64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:])) // fields from 3 (state) on
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != m.postmaster && ppid != m.postmaster {
			continue
		}
		for _, i := range []int{11, 12} { // utime, stime
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
		if pid == m.postmaster {
			for _, i := range []int{13, 14} { // cutime, cstime: exited backends
				v, _ := strconv.ParseInt(f[i], 10, 64)
				ticks += v
			}
		}
	}
	return time.Duration(ticks) * tick
}

func postmasterPID(dataDir string) int {
	b, _ := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
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
	perCall := float64(c.events) / float64(len(bodies)) // per call → per event (the last call may be short)
	r.rate *= perCall
	r.cpu = time.Duration(float64(r.cpu) / perCall)
	var n int
	if err := w.st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE idempotency_key LIKE 'bulk-%'`).Scan(&n); err != nil || n != c.events {
		return r, fmt.Errorf("stored %d of %d events (%v)", n, c.events, err)
	}
	return r, nil
}

// benchCopy writes the same rows with raw pgx CopyFrom into a table identical to usage_events
// (same columns, keys and indexes), in the same batches from as many writers.
func benchCopy(ctx context.Context, w *world, c config) (result, error) {
	// LIKE copies columns, defaults, checks, keys and indexes (usage_events has no foreign key)
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
			rows = append(rows, []any{domain.NewTimedRef(domain.PrefixUsage, now), w.merchant, w.refs[i%len(w.refs)], w.product, "api_requests",
				"api_call", int64(1), "success", fmt.Sprintf("bulk-%d", i), now, map[string]string{"route": "/v1/chat"}})
		}
		batches = append(batches, rows)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.bulkWorkers)
	cpu0 := w.cpu.now()
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
	r := result{rate: float64(c.events) / elapsed.Seconds()}
	r.cpu, r.pgShare = w.cpu.now().per(cpu0, c.events)
	return r, nil
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
	cpu0 := w.cpu.now()
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := newLoadConn(w.addr, w.key)
			defer conn.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				path, body := req(i) // built before the clock starts: the load generator's work, not the server's
				t0 := time.Now()
				err := conn.send(path, body)
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
	return w.summarise(lat, elapsed, failed.Load(), cpu0), nil
}

// summarise is the result of a run of len(lat) requests that took elapsed, with the CPU used
// since cpu0.
func (w *world) summarise(lat []time.Duration, elapsed time.Duration, failed int64, cpu0 cpuTime) result {
	n := len(lat)
	r := result{rate: float64(n) / elapsed.Seconds(), errors: failed}
	r.cpu, r.pgShare = w.cpu.now().per(cpu0, n)
	slices.Sort(lat)
	r.p50, r.p99 = lat[n/2], lat[n*99/100]
	return r
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs `pgbench -S` (select-only, prepared) on a database of its own on the same cluster.
func pgbench(ctx context.Context, w *world, c config) (result, error) {
	pg := w.pg
	admin, err := pgxpool.New(ctx, pg.AdminURL())
	if err != nil {
		return result{}, err
	}
	_, err = admin.Exec(ctx, `CREATE DATABASE pgbench`)
	admin.Close()
	if err != nil {
		return result{}, err
	}
	bin := filepath.Join(pg.BinDir(), "pgbench")
	// the cluster asks for the superuser's password: pass a connection URL that carries it
	db := pg.URLFor("pgbench")
	if outp, err := exec.CommandContext(ctx, bin, "-i", "-q", "-s", "10", db).CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("pgbench -i: %w\n%s", err, outp)
	}
	args := []string{"-S", "-n", "-M", "prepared", "-c", strconv.Itoa(c.workers), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(c.pgbenchSeconds), db}
	cmd := exec.CommandContext(ctx, bin, args...)
	pg0 := w.cpu.postgres()
	outp, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("pgbench -S: %w\n%s", err, outp)
	}
	m := tpsRe.FindSubmatch(outp)
	if m == nil {
		return result{}, fmt.Errorf("no tps in pgbench output:\n%s", outp)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return result{}, err
	}
	n := tps * float64(c.pgbenchSeconds)
	inPG := w.cpu.postgres() - pg0 // one reading for both figures: each is a walk over /proc
	used := inPG + cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return result{rate: tps, cpu: time.Duration(float64(used) / n), pgShare: float64(inPG) / float64(used)}, nil
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

func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
