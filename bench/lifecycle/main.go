// Command lifecycle measures the purchase workflows on the embedded Temporal server with one
// worker: purchase activations end to end (starter.Start: catalog reads, update-with-start,
// first charge, projection) and renewals with 10,000 purchases due at once, each beside the
// rate of an empty workflow started and finished on the same server — the server is the
// ceiling on a small box, so the ratio is the figure that travels. It starts its own
// throwaway Postgres cluster and Temporal server and removes them after.
//
//	go run ./bench/lifecycle [-purchases 10000] [-empty 2000] [-concurrency 32] [-mem]
//
// The renewals are made due at once with the test clock: every purchase receives an
// advance-clock update past its period end, which the workflow plays exactly as a fired
// period-end timer (one workflow task, the charge activity, one workflow task).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

type config struct {
	purchases   int
	empty       int
	concurrency int
	memory      bool
}

func main() {
	var c config
	flag.IntVar(&c.purchases, "purchases", 10_000, "purchases activated, then renewed all at once")
	flag.IntVar(&c.empty, "empty", 2000, "empty workflows for the baseline rate")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent callers")
	flag.BoolVar(&c.memory, "mem", false, "keep the Temporal server's SQLite in memory (default: a file, as tollgate dev)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench lifecycle:", err)
		os.Exit(1)
	}
}

type result struct {
	name  string
	count int
	took  time.Duration
}

func (r result) rate() float64 { return float64(r.count) / r.took.Seconds() }

func run(ctx context.Context, c config, out io.Writer) error {
	env, err := startEnv(ctx, c)
	if err != nil {
		return err
	}
	defer env.stop()
	fmt.Fprintf(out, "lifecycle bench: embedded Temporal (%s), one worker, %d CPUs\n", env.mode, runtime.NumCPU())

	empty, err := env.emptyWorkflows(ctx, c)
	if err != nil {
		return fmt.Errorf("empty workflows: %w", err)
	}
	fmt.Fprintf(out, "  empty workflows: %d in %.1fs\n", empty.count, empty.took.Seconds())
	states, activation, err := env.activate(ctx, c)
	if err != nil {
		return fmt.Errorf("activations: %w", err)
	}
	fmt.Fprintf(out, "  activations: %d in %.1fs\n", activation.count, activation.took.Seconds())
	renewal, err := env.renewAll(ctx, c, states)
	if err != nil {
		return fmt.Errorf("renewals: %w", err)
	}
	if err := env.checkLedger(ctx, 2*len(states)); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tcount\tseconds\tper second\tvs empty workflow\t")
	for _, r := range []result{empty, activation, renewal} {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t\n", r.name, r.count, r.took.Seconds(), r.rate(), r.rate()/empty.rate())
	}
	return tw.Flush()
}

type env struct {
	mode     string
	pg       *devenv.Postgres
	tmp      *devenv.Temporal
	dir      string
	st       *store.Store
	sb       *sandbox.Processor
	tc       client.Client
	w        sdkworker.Worker
	c        *starter.Client
	merchant string
	plan     domain.Plan
}

func startEnv(ctx context.Context, c config) (_ *env, err error) {
	e := &env{mode: "SQLite file"}
	defer func() { // on a failure, stop what did start (stop skips the rest)
		if err != nil {
			e.stop()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "tollgate-bench-lifecycle"); err != nil {
		return nil, err
	}
	if err = os.Chmod(e.dir, 0o755); err != nil { // MkdirTemp's 0700 would keep postgres out
		return nil, err
	}
	port, err := devenv.FreePort()
	if err != nil {
		return nil, err
	}
	if e.pg, err = devenv.StartPostgres(ctx, devenv.PostgresConfig{Dir: e.dir + "/pg", Port: port, Throwaway: true}); err != nil {
		return nil, err
	}
	if e.st, err = store.Open(ctx, e.pg.URL()); err != nil {
		return nil, err
	}
	if err := e.st.Migrate(ctx); err != nil {
		return nil, err
	}
	tcfg := devenv.TemporalConfig{DataDir: e.dir + "/temporal", UIPort: -1}
	if c.memory {
		tcfg.DataDir, e.mode = "", "SQLite in memory"
	}
	if e.tmp, err = devenv.StartTemporal(ctx, tcfg); err != nil {
		return nil, err
	}
	if e.tc, err = client.Dial(client.Options{HostPort: e.tmp.FrontendAddress(), Namespace: e.tmp.Namespace(),
		Logger: quietLogger()}); err != nil {
		return nil, err
	}
	e.sb = sandbox.New(e.st.Pool)
	e.w = worker.New(e.tc, &activities.Activities{Store: e.st, Payments: e.sb}, worker.Options{})
	e.w.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: "bench-empty"})
	if err := e.w.Start(); err != nil {
		return nil, err
	}
	e.c = starter.New(e.tc, e.st)
	m, _, err := e.st.CreateMerchant(ctx, "Bench")
	if err != nil {
		return nil, err
	}
	e.merchant = m.Ref
	prd, err := e.st.CreateProduct(ctx, domain.Product{MerchantRef: m.Ref, Name: "Bench API"})
	if err != nil {
		return nil, err
	}
	if e.plan, err = e.st.CreatePlan(ctx, domain.Plan{MerchantRef: m.Ref, ProductRef: prd.Ref, Name: "Monthly",
		Type: domain.PlanRecurring, Price: 1500}); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) stop() {
	if e.w != nil {
		e.w.Stop()
	}
	if e.tc != nil {
		e.tc.Close()
	}
	if e.tmp != nil {
		e.tmp.Stop()
	}
	if e.st != nil {
		e.st.Close()
	}
	if e.pg != nil {
		_ = e.pg.Stop()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// emptyWorkflow is the baseline: a workflow that does nothing, on the same worker and server.
func emptyWorkflow(workflow.Context) error { return nil }

func (e *env) emptyWorkflows(ctx context.Context, c config) (result, error) {
	began := time.Now()
	err := parallel(ctx, c.empty, c.concurrency, func(i int) error {
		return retry(ctx, func() error {
			run, err := e.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-empty-%d", i),
				TaskQueue: workflows.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
				"bench-empty")
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
	})
	return result{"empty workflow, start to finish", c.empty, time.Since(began)}, err
}

// activate creates the customers with a card, then activates a purchase for each through the
// starter, as the API does.
func (e *env) activate(ctx context.Context, c config) ([]workflows.State, result, error) {
	customers := make([]string, c.purchases)
	err := parallel(ctx, c.purchases, 16, func(i int) error {
		cus, err := e.st.CreateCustomer(ctx, domain.Customer{MerchantRef: e.merchant})
		if err != nil {
			return err
		}
		customers[i] = cus.Ref
		_, err = testenv.AttachCard(ctx, e.st, e.sb, e.merchant, cus.Ref, "pm_card_visa")
		return err
	})
	if err != nil {
		return nil, result{}, err
	}
	states := make([]workflows.State, c.purchases)
	began := time.Now()
	err = parallel(ctx, c.purchases, c.concurrency, func(i int) error {
		ref := domain.NewRef(domain.PrefixPurchase) // fixed, so a retried start finds the same purchase
		var s workflows.State
		err := retry(ctx, func() (err error) {
			s, err = e.c.Start(ctx, starter.StartInput{MerchantRef: e.merchant, CustomerRef: customers[i], PlanRef: e.plan.Ref,
				PurchaseRef: ref})
			return err
		})
		if err == nil && s.Status != domain.PurchaseActive {
			err = fmt.Errorf("purchase %s is %s after activation", s.PurchaseRef, s.Status)
		}
		states[i] = s
		return err
	})
	return states, result{"purchase activation, end to end", c.purchases, time.Since(began)}, err
}

// renewAll makes every purchase due at once and measures until every projection shows period 2.
func (e *env) renewAll(ctx context.Context, c config, states []workflows.State) (result, error) {
	began := time.Now()
	err := parallel(ctx, len(states), c.concurrency, func(i int) error {
		return retry(ctx, func() error {
			_, err := e.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: workflows.WorkflowID(states[i].PurchaseRef), UpdateName: workflows.UpdateAdvanceClock,
				UpdateID:     "bench-renewal", // a retry is the same update
				Args:         []any{workflows.AdvanceClockInput{To: states[i].PeriodEnd.Add(time.Minute)}},
				WaitForStage: client.WorkflowUpdateStageAccepted})
			return err
		})
	})
	if err != nil {
		return result{}, err
	}
	for {
		var renewed int
		if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM purchases WHERE merchant_id = $1 AND period >= 2`,
			e.merchant).Scan(&renewed); err != nil {
			return result{}, err
		}
		if renewed == len(states) {
			break
		}
		select {
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return result{fmt.Sprintf("renewal, %d due at once", len(states)), len(states), time.Since(began)}, nil
}

// checkLedger confirms the processor charged exactly once per purchase and period.
func (e *env) checkLedger(ctx context.Context, want int) error {
	var charges, keys int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT idempotency_key) FROM sandbox_charges
		WHERE status = 'succeeded'`).Scan(&charges, &keys); err != nil {
		return err
	}
	if charges != want || keys != want {
		return fmt.Errorf("ledger holds %d charges under %d keys, want %d", charges, keys, want)
	}
	return nil
}

// retry repeats a call that timed out on an overloaded server (the RPC's own deadline, not ctx);
// every call it wraps is idempotent.
func retry(ctx context.Context, fn func() error) error {
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

// parallel runs fn(0..n-1) on `workers` goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
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

func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}
