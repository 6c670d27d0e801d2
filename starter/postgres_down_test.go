package starter_test

import (
	"context"

	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

// outageAfterCharge is the sandbox (whose ledger stays reachable, as Stripe does) taking the
// worker's database down the moment it has answered the first renewal charge: the charge is
// made and Postgres cannot hear of it.
type outageAfterCharge struct {
	*sandbox.Processor
	once   sync.Once
	outage func()
}

func (p *outageAfterCharge) Charge(ctx context.Context, in payments.ChargeInput) (payments.ChargeResult, error) {
	res, err := p.Processor.Charge(ctx, in)
	if in.Metadata["period"] == "2" {
		p.once.Do(p.outage)
	}
	return res, err
}

// Postgres is lost for longer than several retry intervals while renewals run — right after
// the processor answered a charge, with other renewals mid-flight. Once it is back, every
// purchase renews, and the ledger holds exactly one charge per purchase and period, each
// recorded once under the processor's own id.
func TestPostgresDownDuringRenewals(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n, downFor = 20, 12 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	direct := testenv.PostgresURL(t)
	st, err := store.Open(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	viaProxy, outage := testenv.OutageURL(t, direct)
	workerStore, err := store.Open(ctx, viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(workerStore.Close)

	cutAt := make(chan time.Time, 1)
	pay := &outageAfterCharge{Processor: sandbox.New(st.Pool), outage: func() {
		outage.Down()
		cutAt <- time.Now()
		time.AfterFunc(downFor, outage.Up)
	}}
	s := &stack{t: t, ctx: ctx, st: st, tc: testenv.Temporal(t), sb: pay.Processor}
	tq := "tq-" + strings.ReplaceAll(t.Name(), "/", "-")
	w := worker.New(s.tc, &activities.Activities{Store: workerStore, Payments: pay}, worker.Options{TaskQueue: tq})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	s.c = starter.New(s.tc, st)
	s.c.TaskQueue = tq
	s.merchant, _ = testenv.Merchant(t, st, "Outage")
	if s.product, err = st.CreateProduct(ctx, domain.Product{MerchantRef: s.merchant, Name: "API"}); err != nil {
		t.Fatal(err)
	}
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 700})

	states := make([]workflows.State, n)
	parallel(t, n, func(i int) error {
		cus, _ := s.customer("4242424242424242")
		var err error
		states[i], err = s.c.Start(ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: plan.Ref})
		return err
	})
	parallel(t, n, func(i int) error {
		_, err := s.c.AdvanceClock(ctx, s.merchant, states[i].PurchaseRef, states[i].PeriodEnd.Add(time.Minute))
		return err
	})
	var cut time.Time
	select {
	case cut = <-cutAt:
	case <-time.After(30 * time.Second):
		t.Fatal("no renewal charge took Postgres down")
	}
	// a stuck charge does not hold the clock's answer, so wait for the renewals to land
	deadline := time.Now().Add(2 * time.Minute)
	for countPeriod(t, st, s.merchant, 2) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d purchases renewed after the outage", countPeriod(t, st, s.merchant, 2), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("every purchase renewed %v after Postgres was cut for %v", time.Since(cut).Round(time.Second), downFor)
	for _, p := range states {
		d, err := s.tc.DescribeWorkflowExecution(ctx, workflows.WorkflowID(p.PurchaseRef), "")
		if err != nil || d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Fatalf("workflow of %s after the outage: %v %v", p.PurchaseRef, d.GetWorkflowExecutionInfo().GetStatus(), err)
		}
		s.wantOneChargePerPeriod(p.PurchaseRef, 2)
		if got := s.projection(p.PurchaseRef); got.Status != domain.PurchaseActive || got.Period != 2 {
			t.Fatalf("purchase %s after the outage: %s, period %d", p.PurchaseRef, got.Status, got.Period)
		}
	}
}
