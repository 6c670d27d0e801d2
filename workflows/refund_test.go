package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A running purchase refunds a payment its state no longer holds (it keeps only recent ones,
// bounded.go): the refund activity finds the payment in Postgres. Only the refunded total
// moves; the purchase stays active, and the current period's full refund still revokes access.
func TestRefundOfAPaymentTheStateNoLongerHolds(t *testing.T) {
	acts := newFake()
	plan := recurring(1000)
	plan.BillingCycle = domain.CycleWeekly
	h := newHarness(t, plan, acts)
	next := h.runToContinueAsNew() // 13 weekly periods, all inside the refund window
	s := next.State
	if s.Payments[0].TxnRef != "txn_1" {
		t.Fatalf("payments kept: %+v", s.Payments)
	}
	s.Payments = s.Payments[2:] // as a state that keeps fewer payments holds them: txn_1 and txn_2 only in Postgres
	current := s.Payments[len(s.Payments)-1].TxnRef

	h = newHarness(t, plan, acts)
	h.env.SetStartTime(s.PeriodStart.Add(time.Hour))
	h.in = next
	var old, again, unknown, rest error
	h.update(day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r-old", TransactionRef: "txn_1"}, &old)
	h.update(2*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r-old-2", TransactionRef: "txn_1", Amount: 1}, &again)
	h.update(3*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r-x", TransactionRef: "txn_nope"}, &unknown)
	h.update(4*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r-cur", TransactionRef: current}, &rest)
	final := h.run()
	if old != nil || rest != nil {
		t.Fatalf("refunds: %v, %v", old, rest)
	}
	refusal(t, again, domain.CodeInvalidField, "only 0 of payment txn_1")
	refusal(t, unknown, domain.CodeInvalidField, "transaction txn_nope is not a payment of purchase pur_t")
	if n := len(acts.refunds); n != 2 || acts.refunds[0].SourceTxnRef != "txn_1" || acts.refunds[0].Amount != 0 ||
		acts.refunds[0].IdempotencyKey != "pur_t/refund/r-old" || acts.refunds[0].At.IsZero() {
		t.Fatalf("refunds made: %+v", acts.refunds)
	}
	if final.RefundedTotal != 2000 || final.Status != domain.PurchaseRefunded {
		t.Fatalf("after refunding an old payment and the current one: %+v", final)
	}
	// the old payment's refund left the purchase active; only the current period's ended it
	wantStatuses(t, acts, "pending", "active", "refunded")
}

// A payment the state still holds but that is older than the processor refunds (180 days on the
// purchase's clock) is refused before anything moves, with its own code.
func TestRefundPastTheWindowIsRefused(t *testing.T) {
	plan := recurring(12000)
	plan.BillingCycle = domain.CycleYearly
	h := newHarness(t, plan)
	var late, inTime error
	h.update(179*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", TransactionRef: "txn_1", Amount: 100}, &inTime)
	h.update(181*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r2", TransactionRef: "txn_1", Amount: 100}, &late)
	h.at(182*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if inTime != nil {
		t.Fatalf("a refund inside the window: %v", inTime)
	}
	refusal(t, late, domain.CodeRefundWindowClosed, "payment txn_1 was made on 2026-01-15, more than 180 days ago")
	if len(h.acts.refunds) != 1 || s.RefundedTotal != 100 {
		t.Fatalf("refunds made: %+v, refunded %d", h.acts.refunds, s.RefundedTotal)
	}
}

// The refund workflow makes one refund of a closed purchase's payment with the purchase's key,
// on the purchase's clock, and answers the activity's refusals with their own code and field.
func TestPaymentRefundWorkflow(t *testing.T) {
	run := func(acts *fakeActivities, in workflows.PaymentRefundInput) (workflows.RefundResult, error) {
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetStartTime(start)
		env.RegisterWorkflowWithOptions(workflows.PaymentRefund, workflow.RegisterOptions{Name: workflows.PaymentRefundWorkflow})
		env.RegisterActivity(acts)
		env.ExecuteWorkflow(workflows.PaymentRefundWorkflow, in)
		var res workflows.RefundResult
		if err := env.GetWorkflowError(); err != nil {
			return res, err
		}
		return res, env.GetWorkflowResult(&res)
	}
	acts := newFake()
	acts.paid["txn_p"] = 1000
	in := workflows.PaymentRefundInput{MerchantRef: "mer_t", PurchaseRef: "pur_t", CustomerRef: "cus_t", Currency: "USD",
		Terms: "digest", ClockOffset: 30 * day, Request: workflows.RefundInput{RequestKey: "k", TransactionRef: "txn_p", Amount: 600}}
	res, err := run(acts, in)
	if err != nil || res.Amount != 600 || res.TransactionRef == "" {
		t.Fatalf("refund: %v %+v", err, res)
	}
	r := acts.refunds[0]
	if r.IdempotencyKey != workflows.RefundKey("pur_t", "k") || !r.OnClosedPurchase || !r.At.Equal(start.Add(30*day)) || r.Terms != "digest" {
		t.Fatalf("refund asked: %+v", r)
	}
	in.Request.RequestKey = "k2"
	_, err = run(acts, in)
	refusal(t, err, domain.CodeInvalidField, "only 400 of payment txn_p")
	in.Request.TransactionRef = ""
	_, err = run(acts, in)
	refusal(t, err, domain.CodeMissingField, "needs the payment")
}
