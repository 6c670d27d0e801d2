package starter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

func TestMain(m *testing.M) {
	if workerProcess() { // the fault test re-executes this binary as its worker
		return
	}
	testenv.Main(m)
}

// stack is the whole lifecycle on real infrastructure: the embedded Temporal server, a fresh
// Postgres database, the sandbox processor and a worker on a task queue of its own.
type stack struct {
	t        *testing.T
	ctx      context.Context
	st       *store.Store
	tc       client.Client
	sb       *sandbox.Processor
	c        *starter.Client
	merchant string
	product  domain.Product
	// lastReconcile is the workflow ID of the last reconciliation run (reconcile_test.go).
	lastReconcile string
}

var testenvNamespace string

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s := &stack{t: t, ctx: ctx, st: testenv.Postgres(t), tc: testenv.Temporal(t)}
	testenvNamespace = testenv.TemporalServer(t).Namespace()
	s.sb = sandbox.New(s.st.Pool)
	tq := "tq-" + strings.ReplaceAll(t.Name(), "/", "-")
	w := worker.New(s.tc, &activities.Activities{Store: s.st, Payments: s.sb}, worker.Options{TaskQueue: tq})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	s.c = starter.New(s.tc, s.st)
	s.c.TaskQueue = tq
	s.merchant, _ = testenv.Merchant(t, s.st, "Acme")
	var err error
	if s.product, err = s.st.CreateProduct(ctx, domain.Product{MerchantRef: s.merchant, Name: "Weather API"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stack) plan(p domain.Plan) domain.Plan {
	s.t.Helper()
	p.MerchantRef, p.ProductRef = s.merchant, s.product.Ref
	if p.Name == "" {
		p.Name = string(p.Type)
	}
	out, err := s.st.CreatePlan(s.ctx, p)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// customer creates a customer with card (a test card number or pm_ id) attached as default;
// "" leaves the customer without a card. It returns the customer and the sandbox card id.
func (s *stack) customer(card string) (domain.Customer, string) {
	s.t.Helper()
	c, err := s.st.CreateCustomer(s.ctx, domain.Customer{MerchantRef: s.merchant, Email: "c@example.com"})
	if err != nil {
		s.t.Fatal(err)
	}
	if card == "" {
		return c, ""
	}
	return c, s.setCard(c.Ref, card)
}

func (s *stack) setCard(customerRef, card string) string {
	s.t.Helper()
	c, err := testenv.AttachCard(s.ctx, s.st, s.sb, s.merchant, customerRef, card)
	if err != nil {
		s.t.Fatal(err)
	}
	return c.PaymentMethod
}

func (s *stack) start(cus domain.Customer, plan domain.Plan) workflows.State {
	s.t.Helper()
	st, err := s.c.Start(s.ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: plan.Ref})
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *stack) advance(ref string, to time.Time) workflows.State {
	s.t.Helper()
	st, err := s.c.AdvanceClock(s.ctx, s.merchant, ref, to)
	if err != nil {
		s.t.Fatalf("advance to %s: %v", to, err)
	}
	return st
}

func (s *stack) projection(ref string) domain.Purchase {
	s.t.Helper()
	p, err := s.st.GetPurchase(s.ctx, s.merchant, ref)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// ledger is the sandbox processor's own record of a purchase's charges.
func (s *stack) ledger(ref string) (succeeded, failed []sandbox.LedgerCharge) {
	s.t.Helper()
	all, err := s.sb.Charges(s.ctx, ref+"/")
	if err != nil {
		s.t.Fatal(err)
	}
	for _, c := range all {
		if c.Status == "succeeded" {
			succeeded = append(succeeded, c)
		} else {
			failed = append(failed, c)
		}
	}
	return succeeded, failed
}

// transitions lists the audited status changes of a purchase.
func (s *stack) transitions(ref string) []string {
	s.t.Helper()
	entries, err := s.st.ListAudit(s.ctx, s.merchant, ref)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.FromStatus != e.ToStatus {
			out = append(out, e.ToStatus)
		}
	}
	return out
}

// eventually polls cond for up to 10 s (projections and visibility are written asynchronously).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	within(t, 10*time.Second, what, cond)
}

// within polls cond for up to d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listRequest(query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: testenvNamespace, Query: query}
}
