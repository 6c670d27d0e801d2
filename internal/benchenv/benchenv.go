// Package benchenv is what the benchmarks under bench/ share: a throwaway Postgres cluster, the
// embedded Temporal server and one worker of the purchase workflows on it, started in the
// bench's own process and removed after, and the small helpers of a load run (a bounded pool of
// callers, retries of calls an overloaded server timed out, percentiles, the machine's load).
package benchenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Options choose how the environment starts.
type Options struct {
	Name string // names the temporary directory
	// MemoryTemporal keeps the Temporal server's SQLite in memory (default: a file, as tollgate dev).
	MemoryTemporal bool
}

// Env is the running system: Postgres with the schema, the Temporal server, a client and one
// started worker of the purchase, refund and webhook-delivery workflows with the sandbox
// processor.
type Env struct {
	Mode     string // where the Temporal server keeps its SQLite, in words
	PG       *devenv.Postgres
	Temporal *devenv.Temporal
	Dir      string
	Store    *store.Store
	Sandbox  *sandbox.Processor
	Client   client.Client
	Worker   sdkworker.Worker
}

// Start starts everything; on a failure it stops what did start.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	e := &Env{Mode: "SQLite file"}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.Dir, err = os.MkdirTemp("", "tollgate-bench-"+o.Name); err != nil {
		return nil, err
	}
	if err = os.Chmod(e.Dir, 0o755); err != nil { // MkdirTemp's 0700 would keep postgres out
		return nil, err
	}
	port, err := devenv.FreePort()
	if err != nil {
		return nil, err
	}
	if e.PG, err = devenv.StartPostgres(ctx, devenv.PostgresConfig{Dir: e.Dir + "/pg", Port: port, Throwaway: true}); err != nil {
		return nil, err
	}
	if e.Store, err = store.Open(ctx, e.PG.URL()); err != nil {
		return nil, err
	}
	if err := e.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	tcfg := devenv.TemporalConfig{DataDir: e.Dir + "/temporal", UIPort: -1}
	if o.MemoryTemporal {
		tcfg.DataDir, e.Mode = "", "SQLite in memory"
	}
	if e.Temporal, err = devenv.StartTemporal(ctx, tcfg); err != nil {
		return nil, err
	}
	if e.Client, err = client.Dial(client.Options{HostPort: e.Temporal.FrontendAddress(), Namespace: e.Temporal.Namespace(),
		Logger: QuietLogger()}); err != nil {
		return nil, err
	}
	e.Sandbox = sandbox.New(e.Store.Pool)
	e.Worker = worker.New(e.Client, &activities.Activities{Store: e.Store, Payments: e.Sandbox}, worker.Options{})
	e.Worker.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: emptyWorkflowName})
	if err := e.Worker.Start(); err != nil {
		e.Worker = nil // a worker that did not start is not stopped
		return nil, err
	}
	return e, nil
}

// Stop stops what runs and removes the temporary directory.
func (e *Env) Stop() {
	if e.Worker != nil {
		e.Worker.Stop()
	}
	if e.Client != nil {
		e.Client.Close()
	}
	if e.Temporal != nil {
		e.Temporal.Stop()
	}
	if e.Store != nil {
		e.Store.Close()
	}
	if e.PG != nil {
		_ = e.PG.Stop()
	}
	if e.Dir != "" {
		_ = os.RemoveAll(e.Dir)
	}
}

// emptyWorkflow is the baseline of the benches: a workflow that does nothing, on the same worker
// and server. On a small box the Temporal server is the ceiling, and a rate's ratio to this
// one's is the figure that travels.
func emptyWorkflow(workflow.Context) error { return nil }

const emptyWorkflowName = "bench-empty"

// EmptyWorkflows starts n empty workflows from `callers` goroutines, each waiting for its
// workflow's end, and answers how long they all took. Names are unique per call of key.
func (e *Env) EmptyWorkflows(ctx context.Context, key string, n, callers int) (time.Duration, error) {
	began := time.Now()
	err := Parallel(ctx, n, callers, func(i int) error {
		return Retry(ctx, func() error {
			run, err := e.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-empty-%s-%d", key, i),
				TaskQueue: workflows.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
				emptyWorkflowName)
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
	})
	return time.Since(began), err
}

// Retry repeats a call that timed out on an overloaded server (the RPC's own deadline, not ctx);
// every call it wraps must be idempotent.
func Retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || ctx.Err() != nil || attempt == 5 || !transient(err) {
			return err
		}
		time.Sleep(time.Duration(attempt) * time.Second)
	}
}

func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var busy *serviceerror.ResourceExhausted
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &busy)
}

// Parallel runs fn(0..n-1) on `workers` goroutines and returns the first error.
func Parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// QuietLogger logs the Temporal SDK's errors only.
func QuietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

// Percentile is the p-th percentile (0–100) of ds, nearest rank; ds is sorted in place.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// LoadAvg is the machine's load average over 1, 5 and 15 minutes, as uptime prints it: on a
// shared box the figures are only read with it.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}

// CPUProfile writes a CPU profile of this process to path (none when empty) until the returned
// func is called.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
