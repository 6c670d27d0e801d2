package starter_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

// The fault test runs its worker in a child process — this test binary re-executed with these
// variables set — so it can SIGKILL the worker mid-renewal and start another.
const (
	envWorker    = "TOLLGATE_FAULT_WORKER"
	envPostgres  = "TOLLGATE_FAULT_PG"
	envTemporal  = "TOLLGATE_FAULT_TEMPORAL"
	envNamespace = "TOLLGATE_FAULT_NAMESPACE"
	envQueue     = "TOLLGATE_FAULT_QUEUE"
	// envHang makes the child worker hang for good once the processor has answered a charge,
	// before anything reaches Postgres: the window a kill must not turn into a second charge.
	envHang = "TOLLGATE_FAULT_HANG_AFTER_CHARGE"
)

// hangAfterCharge is the sandbox with a worker that stops dead after each charge.
type hangAfterCharge struct{ *sandbox.Processor }

func (h hangAfterCharge) Charge(ctx context.Context, in payments.ChargeInput) (payments.ChargeResult, error) {
	_, _ = h.Processor.Charge(ctx, in)
	select {}
}

// workerProcess runs a worker and the webhook relay until it is killed when this binary is the
// fault test's child; it reports false in a normal test run.
func workerProcess() bool {
	if os.Getenv(envWorker) == "" {
		return false
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "fault worker:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv(envPostgres))
	if err != nil {
		fail(err)
	}
	c, err := client.Dial(client.Options{HostPort: os.Getenv(envTemporal), Namespace: os.Getenv(envNamespace),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))})
	if err != nil {
		fail(err)
	}
	var pay payments.Processor = sandbox.New(st.Pool)
	if os.Getenv(envHang) != "" {
		pay = hangAfterCharge{sandbox.New(st.Pool)}
	}
	w := worker.New(c, &activities.Activities{Store: st, Payments: pay}, worker.Options{
		TaskQueue: os.Getenv(envQueue),
		// a killed worker's sticky queue is abandoned quickly, so the restarted one takes over
		StickyScheduleToStartTimeout: 2 * time.Second,
	})
	// the relay runs beside the worker, as in the worker command, with a retry schedule of seconds
	relay := &webhooks.Relay{Store: st, Temporal: c, TaskQueue: os.Getenv(envQueue),
		Backoff: []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}}
	go relay.Run(ctx)
	if err := w.Run(sdkworker.InterruptCh()); err != nil {
		fail(err)
	}
	return true
}

type childWorker struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func startChildWorker(t *testing.T, env []string) *childWorker {
	t.Helper()
	cw := &childWorker{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	cw.cmd.Env = append(os.Environ(), env...)
	cw.cmd.Stdout, cw.cmd.Stderr = &cw.out, &cw.out
	if err := cw.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cw.cmd.ProcessState == nil {
			_ = cw.cmd.Process.Kill()
			_ = cw.cmd.Wait()
		}
	})
	return cw
}

func (cw *childWorker) kill(t *testing.T) {
	t.Helper()
	if err := cw.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cw.cmd.Wait()
}

// newFaultStack is a stack whose workers run as child processes: it answers the stack (with
// its own task queue) and the environment a child worker needs.
func newFaultStack(t *testing.T, ctx context.Context) (*stack, []string) {
	t.Helper()
	pgURL := testenv.PostgresURL(t)
	st, err := store.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	srv := testenv.TemporalServer(t)
	queue := "fault-" + domain.RandomString(6)
	env := []string{envWorker + "=1", envPostgres + "=" + pgURL, envTemporal + "=" + srv.FrontendAddress(),
		envNamespace + "=" + srv.Namespace(), envQueue + "=" + queue}
	s := &stack{t: t, ctx: ctx, st: st, tc: testenv.Temporal(t), sb: sandbox.New(st.Pool)}
	s.merchant, _ = testenv.Merchant(t, st, "Fault")
	if s.product, err = st.CreateProduct(ctx, domain.Product{MerchantRef: s.merchant, Name: "API"}); err != nil {
		t.Fatal(err)
	}
	s.c = starter.New(s.tc, st)
	s.c.TaskQueue = queue
	return s, env
}

// 200 purchases fall due at once (two renewals each through the test clock); the worker process
// is SIGKILLed in the middle and restarted. Afterwards the processor's own ledger holds exactly
// one charge per purchase and period, and no projection ever moved backwards.
func TestWorkerKilledMidRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 200
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, env := newFaultStack(t, ctx)
	st, tc, sb := s.st, s.tc, s.sb
	child := startChildWorker(t, env)

	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 500})

	began := time.Now()
	states := make([]workflows.State, n)
	parallel(t, n, func(i int) error {
		cus, _ := s.customer("4242424242424242")
		var err error
		states[i], err = s.c.Start(ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: plan.Ref})
		return err
	})

	t.Logf("%d purchases activated in %v", n, time.Since(began))
	stopWatch := watchProjections(t, st, s.merchant)
	// every purchase jumps past two renewals at once; the updates are accepted, then played.
	// They are sent while the killer below watches the ledger, so the kill lands mid-renewal.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		parallel(t, n, func(i int) error {
			to := states[i].PeriodEnd.AddDate(0, 1, 0).Add(time.Minute)
			_, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(states[i].PurchaseRef),
				UpdateName: workflows.UpdateAdvanceClock, Args: []any{workflows.AdvanceClockInput{To: to}},
				WaitForStage: client.WorkflowUpdateStageAccepted})
			return err
		})
	}()
	eventually(t, "renewals under way", func() bool { return countCharges(t, sb) >= n+n/4 })
	child.kill(t)
	killedAt := time.Now()
	t.Logf("killed the worker with %d of %d renewals charged", countCharges(t, sb)-n, 2*n)
	child = startChildWorker(t, env)
	<-sent

	deadline := time.Now().Add(2 * time.Minute)
	for countPeriod(t, st, s.merchant, 3) < n {
		if time.Now().After(deadline) {
			t.Fatalf("not every purchase reached period 3: %d of %d\n%s", countPeriod(t, st, s.merchant, 3), n, child.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopWatch()
	t.Logf("every purchase renewed twice %v after the kill", time.Since(killedAt))

	charges, err := sb.Charges(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	perPurchase := map[string]int{}
	for _, c := range charges {
		if c.Status != "succeeded" {
			t.Fatalf("failed charge %+v", c)
		}
		perPurchase[c.Metadata["purchaseRef"]+"/"+c.Metadata["period"]]++
	}
	if len(charges) != 3*n || len(perPurchase) != 3*n {
		t.Fatalf("ledger: %d charges for %d purchase periods, want %d", len(charges), len(perPurchase), 3*n)
	}
	var txns int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE merchant_id = $1 AND status = 'succeeded'`,
		s.merchant).Scan(&txns); err != nil || txns != 3*n {
		t.Fatalf("transactions: %v %d", err, txns)
	}
}

func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func countCharges(t *testing.T, sb *sandbox.Processor) int {
	charges, err := sb.Charges(context.Background(), "")
	if err != nil {
		t.Error(err)
	}
	return len(charges)
}

func countPeriod(t *testing.T, st *store.Store, merchant string, period int) int {
	var n int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM purchases WHERE merchant_id = $1 AND period >= $2
		AND status = 'active'`, merchant, period).Scan(&n); err != nil {
		t.Error(err)
	}
	return n
}

// watchProjections samples every projection of merchant until stopped and fails the test if a
// purchase's sequence number or period ever decreases.
func watchProjections(t *testing.T, st *store.Store, merchant string) (stop func()) {
	type seen struct{ seq, period int64 }
	last := map[string]seen{}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			rows, err := st.Pool.Query(context.Background(), `SELECT id, seq, period FROM purchases WHERE merchant_id = $1`, merchant)
			if err != nil {
				t.Error(err)
				return
			}
			for rows.Next() {
				var id string
				var s seen
				if err := rows.Scan(&id, &s.seq, &s.period); err != nil {
					t.Error(err)
				}
				if prev, ok := last[id]; ok && (s.seq < prev.seq || s.period < prev.period) {
					t.Errorf("projection of %s went backwards: %+v after %+v", id, s, prev)
				}
				last[id] = s
			}
			rows.Close()
		}
	}()
	return func() { close(done); <-finished }
}
