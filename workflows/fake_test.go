package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/workflows"
)

// fakeActivities is an in-memory world for the workflow: a card that succeeds or declines, a
// usage counter, and a record of every charge, refund and projection write.
type fakeActivities struct {
	mu          sync.Mutex
	declining   bool
	usage       map[time.Time]int64 // by period start
	policy      workflows.DunningPolicy
	charges     []workflows.ChargeInput // succeeded
	failed      []workflows.ChargeInput
	refunds     []workflows.RefundPaymentInput
	projections []domain.Purchase
	audits      []workflows.AuditInput
	keys        map[string]bool
	faults      map[string]int // charge attempts under a key that fail with a processor fault first
	attempts    []workflows.ChargeInput
	chargedAt   map[string]time.Time // workflow time of each succeeded charge
	now         func() time.Time
	paid        map[string]int64 // payments Postgres holds beside the fake's own charges, by txn_
	refunded    map[string]int64 // by payment
	// asking: the bank wants every charge authenticated (3-D Secure); the charge is kept open
	// at the processor as pi_auth_<n>, for the customer to complete.
	asking bool
}

var _ workflows.Activities = (*fakeActivities)(nil)

func newFake() *fakeActivities {
	return &fakeActivities{usage: map[time.Time]int64{}, keys: map[string]bool{}, faults: map[string]int{},
		chargedAt: map[string]time.Time{}, paid: map[string]int64{}, refunded: map[string]int64{},
		policy: workflows.DunningPolicy{RetryDays: domain.DefaultDunning.RetryDays, GraceDays: domain.DefaultDunning.GraceDays}}
}

func (f *fakeActivities) Project(_ context.Context, in workflows.ProjectInput) error {
	in.Purchase.MerchantRef, in.Purchase.Seq = in.MerchantRef, in.Seq
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.projections); n > 0 && f.projections[n-1].Seq >= in.Purchase.Seq {
		return fmt.Errorf("projection seq went from %d to %d", f.projections[n-1].Seq, in.Purchase.Seq)
	}
	f.projections = append(f.projections, in.Purchase)
	if in.Audit != nil {
		f.audits = append(f.audits, *in.Audit)
	}
	return nil
}

func (f *fakeActivities) Charge(_ context.Context, in workflows.ChargeInput) (workflows.ChargeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, in)
	if f.faults[in.IdempotencyKey] > 0 {
		f.faults[in.IdempotencyKey]--
		return workflows.ChargeResult{}, temporal.NewApplicationError("processor answered 401: invalid API key",
			workflows.ErrTypeProcessorFault)
	}
	if f.keys[in.IdempotencyKey] {
		return workflows.ChargeResult{}, fmt.Errorf("key %s charged twice", in.IdempotencyKey)
	}
	f.keys[in.IdempotencyKey] = true
	if f.asking {
		f.failed = append(f.failed, in)
		return workflows.ChargeResult{}, temporal.NewNonRetryableApplicationError("Your bank asks you to authenticate this payment.",
			workflows.ErrTypeAuthenticationRequired, nil, workflows.ChargeFailure{TxnRef: "txn_auth", Code: payments.CodeAuthenticationRequired,
				ProcessorRef: fmt.Sprintf("pi_auth_%d", len(f.failed)), Amount: in.Amount})
	}
	if f.declining {
		f.failed = append(f.failed, in)
		return workflows.ChargeResult{}, temporal.NewNonRetryableApplicationError("Your card was declined.",
			workflows.ErrTypeCardDeclined, nil, workflows.ChargeFailure{TxnRef: "txn_failed", Code: "card_declined"})
	}
	f.charges = append(f.charges, in)
	if f.now != nil {
		f.chargedAt[in.IdempotencyKey] = f.now()
	}
	n := len(f.charges)
	return workflows.ChargeResult{TxnRef: fmt.Sprintf("txn_%d", n), ProcessorRef: fmt.Sprintf("ch_%d", n)}, nil
}

func (f *fakeActivities) PaymentMethod(context.Context, workflows.PaymentMethodInput) (workflows.PaymentMethodResult, error) {
	return workflows.PaymentMethodResult{PaymentMethod: "pm_fake"}, nil
}

// RefundPayment refunds a payment the fake charged (or one put in paid, as Postgres would hold
// it), within what is left of it, as the activity does.
func (f *fakeActivities) RefundPayment(_ context.Context, in workflows.RefundPaymentInput) (workflows.RefundPaymentResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	paid, ok := f.paid[in.SourceTxnRef]
	for i, c := range f.charges {
		if in.SourceTxnRef == fmt.Sprintf("txn_%d", i+1) {
			paid, ok = c.Amount, true
		}
	}
	if !ok {
		return workflows.RefundPaymentResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"transaction %s is not a payment of purchase %s", in.SourceTxnRef, in.PurchaseRef), string(domain.CodeInvalidField),
			nil, "sourceTransactionRef")
	}
	left := paid - f.refunded[in.SourceTxnRef]
	amount := in.Amount
	if amount == 0 {
		amount = left
	}
	if amount > left || amount <= 0 {
		return workflows.RefundPaymentResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"cannot refund %d: only %d of payment %s remains to refund", amount, left, in.SourceTxnRef),
			string(domain.CodeInvalidField), nil, "amount")
	}
	f.refunded[in.SourceTxnRef] += amount
	f.refunds = append(f.refunds, in)
	return workflows.RefundPaymentResult{TxnRef: fmt.Sprintf("txn_r%d", len(f.refunds)), ProcessorRef: "re_x", Amount: amount}, nil
}

func (f *fakeActivities) UsageForPeriod(_ context.Context, in workflows.UsageInput) (workflows.UsageResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return workflows.UsageResult{Units: f.usage[in.PeriodStart]}, nil
}

func (f *fakeActivities) DunningPolicy(context.Context, workflows.DunningPolicyInput) (workflows.DunningPolicy, error) {
	return f.policy, nil
}

func (f *fakeActivities) setDeclining(v bool) {
	f.mu.Lock()
	f.declining = v
	f.mu.Unlock()
}

func (f *fakeActivities) chargeKeys() []string {
	var out []string
	for _, c := range f.charges {
		out = append(out, c.IdempotencyKey)
	}
	return out
}

func (f *fakeActivities) lastProjection() domain.Purchase { return f.projections[len(f.projections)-1] }

// statuses lists the status each audited step moved to, skipping steps that kept the status.
func (f *fakeActivities) statuses() []string {
	var out []string
	for _, a := range f.audits {
		if a.FromStatus != a.ToStatus {
			out = append(out, a.ToStatus)
		}
	}
	return out
}

// start is 2026-01-15 10:00 UTC: month ends are in the future of every test.
var start = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	acts *fakeActivities
	in   workflows.PurchaseInput
}

func newHarness(t *testing.T, plan domain.Plan, shared ...*fakeActivities) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflowWithOptions(workflows.Purchase, workflow.RegisterOptions{Name: workflows.PurchaseWorkflow})
	acts := newFake()
	if len(shared) > 0 {
		acts = shared[0]
	}
	env.RegisterActivity(acts)
	acts.now = env.Now
	if plan.Ref == "" {
		plan.Ref = "pln_a"
	}
	plan.ProductRef, plan.Currency, plan.Status, plan.Name = "prd_a", "USD", domain.StatusActive, "Plan A"
	if plan.Type != domain.PlanOneTime && plan.BillingCycle == "" {
		plan.BillingCycle = domain.CycleMonthly
	}
	return &harness{t: t, env: env, acts: acts, in: workflows.PurchaseInput{PurchaseRef: "pur_t", MerchantRef: "mer_t",
		CustomerRef: "cus_t", Plan: plan, Sandbox: true}}
}

// at runs fn at workflow time start+d.
func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

// update sends an update at start+d and records its outcome in *err (nil = accepted and completed).
func (h *harness) update(d time.Duration, name string, arg any, err *error) {
	h.at(d, func() {
		h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%v", name, d), &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(e error) { *err = e },
			OnComplete: func(_ any, e error) { *err = e },
		}, arg)
	})
}

// run executes the workflow to its end (or continue-as-new) and returns the final state.
func (h *harness) run() workflows.State {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.PurchaseWorkflow, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	if err != nil {
		h.t.Fatal(err)
	}
	var s workflows.State
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// runToContinueAsNew executes the workflow until its run continues as new and returns the
// next run's input.
func (h *harness) runToContinueAsNew() workflows.PurchaseInput {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.PurchaseWorkflow, h.in)
	var can *workflow.ContinueAsNewError
	if !errors.As(h.env.GetWorkflowError(), &can) {
		h.t.Fatalf("want continue-as-new, got %v", h.env.GetWorkflowError())
	}
	var next workflows.PurchaseInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		h.t.Fatal(err)
	}
	return next
}

// refusal asserts err is an update refusal with the code and a message containing want.
func refusal(t *testing.T, err error, code domain.Code, want string) {
	t.Helper()
	var app *temporal.ApplicationError
	if !asApp(err, &app) || app.Type() != string(code) || !contains(app.Message(), want) {
		t.Fatalf("want a %s refusal containing %q, got %v", code, want, err)
	}
}
