package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

func asApp(err error, app **temporal.ApplicationError) bool { return errors.As(err, app) }
func contains(s, sub string) bool                           { return strings.Contains(s, sub) }

func wantKeys(t *testing.T, got []string, want ...string) {
	t.Helper()
	for i := range want {
		want[i] = "pur_t/" + want[i]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("charges:\n got %v\nwant %v", got, want)
	}
}

func wantStatuses(t *testing.T, f *fakeActivities, want ...string) {
	t.Helper()
	if got := f.statuses(); !slices.Equal(got, want) {
		t.Fatalf("transitions:\n got %v\nwant %v", got, want)
	}
}

func recurring(price int64) domain.Plan {
	return domain.Plan{Type: domain.PlanRecurring, Price: price}
}

func TestRecurringRenewsUntilCancelledAtPeriodEnd(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(70*day, func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{Reason: "too expensive"})
	})
	s := h.run()
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge", "period-3/charge")
	wantStatuses(t, h.acts, "pending", "active", "pending_cancellation", "cancelled")
	if s.Status != domain.PurchaseCancelled || !s.EndedAt.Equal(time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)) || s.PaidTotal != 3000 {
		t.Fatalf("state: %+v", s)
	}
	p := h.acts.lastProjection()
	if p.Status != domain.PurchaseCancelled || p.CancelledAt == nil || p.CancelReason != "too expensive" || p.Period != 3 {
		t.Fatalf("projection: %+v", p)
	}
}

func TestCancelReactivateAndRefusals(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var cancel1, reactivate, cancel2, cancelTwice, lateReactivate error
	h.update(5*day, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{}, &cancel1)
	h.update(10*day, workflows.UpdateReactivateRenewal, workflows.ReactivateInput{}, &reactivate)
	h.update(40*day, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{}, &cancel2)
	h.update(41*day, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{}, &cancelTwice)
	h.update(75*day, workflows.UpdateReactivateRenewal, workflows.ReactivateInput{}, &lateReactivate)
	var midState workflows.State
	h.at(6*day, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&midState)
	})
	s := h.run()
	if cancel1 != nil || reactivate != nil || cancel2 != nil {
		t.Fatalf("updates: %v %v %v", cancel1, reactivate, cancel2)
	}
	if midState.DisplayStatus() != domain.PurchasePendingCancellation || midState.NextBillingAt() != nil {
		t.Fatalf("after cancel: %+v", midState)
	}
	refusal(t, cancelTwice, domain.CodeConflict, "already cancelled")
	refusal(t, lateReactivate, domain.CodeConflict, "cannot reactivate: the period ended on 2026-03-15")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge")
	wantStatuses(t, h.acts, "pending", "active", "pending_cancellation", "active", "pending_cancellation", "cancelled")
	if s.Status != domain.PurchaseCancelled {
		t.Fatalf("state: %+v", s)
	}
}

func TestTrialThenFirstCharge(t *testing.T) {
	plan := recurring(1000)
	plan.TrialDays, plan.SetupFee = 14, 500
	h := newHarness(t, plan)
	var trialState workflows.State
	h.at(day, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&trialState)
	})
	h.at(20*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if trialState.Status != domain.PurchaseTrialing || !trialState.HasAccess() || !trialState.TrialEnd.Equal(start.Add(14*day)) {
		t.Fatalf("trial: %+v", trialState)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge")
	if h.acts.charges[0].Amount != 1500 {
		t.Fatalf("first charge %d, want price + setup fee", h.acts.charges[0].Amount)
	}
	wantStatuses(t, h.acts, "pending", "trialing", "active", "pending_cancellation", "cancelled")
	if !s.EndedAt.Equal(time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC)) { // Jan 29 + a month, clamped
		t.Fatalf("ended %v", s.EndedAt)
	}
}

func TestFreePlanActivatesAtZero(t *testing.T) {
	h := newHarness(t, domain.Plan{Type: domain.PlanFree})
	h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	wantKeys(t, h.acts.chargeKeys())
	wantStatuses(t, h.acts, "pending", "active", "pending_cancellation", "cancelled")
	if s.Period != 2 {
		t.Fatalf("free periods still roll (usage limits reset): period %d", s.Period)
	}
}

func TestUsageBasedBillsOverageAtPeriodEnd(t *testing.T) {
	h := newHarness(t, domain.Plan{Type: domain.PlanUsageBased, UnitPrice: 5, FreeUnits: 100, Meter: "api_requests"})
	h.acts.usage[start] = 250
	h.acts.usage[start.AddDate(0, 1, 0)] = 50  // under the free units: nothing to pay
	h.acts.usage[start.AddDate(0, 2, 0)] = 120 // the last period's overage is billed at cancellation
	h.at(70*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	wantKeys(t, h.acts.chargeKeys(), "period-2/charge", "period-3/final-usage")
	if h.acts.charges[0].Amount != 750 || h.acts.charges[1].Amount != 100 || s.PaidTotal != 850 {
		t.Fatalf("overage charge %+v", h.acts.charges)
	}
	if h.acts.projections[1].Status != domain.PurchaseActive {
		t.Fatal("usage-based plans activate at zero")
	}
}

func TestHybridBillsPriceAndOverage(t *testing.T) {
	h := newHarness(t, domain.Plan{Type: domain.PlanHybrid, Price: 2000, UnitPrice: 3, FreeUnits: 1000})
	h.acts.usage[start] = 1500
	h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	h.run()
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge")
	if a := h.acts.charges[1].Amount; a != 2000+500*3 {
		t.Fatalf("renewal %d", a)
	}
}

func TestOneTimeAccessExpires(t *testing.T) {
	h := newHarness(t, domain.Plan{Type: domain.PlanOneTime, Price: 4900, AccessDays: 30})
	var cancel error
	h.update(day, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{}, &cancel)
	s := h.run()
	refusal(t, cancel, domain.CodeConflict, "one-time purchase does not renew")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge")
	wantStatuses(t, h.acts, "pending", "active", "expired")
	if s.EndReason != "access_elapsed" || !s.EndedAt.Equal(start.Add(30*day)) {
		t.Fatalf("state: %+v", s)
	}
}

func TestFirstPaymentFailureExpires(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.acts.declining = true
	s := h.run()
	wantStatuses(t, h.acts, "pending", "expired")
	if !strings.HasPrefix(s.EndReason, "first_payment_failed") || len(h.acts.failed) != 1 {
		t.Fatalf("state: %+v", s)
	}
}

func TestDunningPastDueSuspendedExpired(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(20*day, func() { h.acts.setDeclining(true) })
	s := h.run()
	var failed []string
	for _, c := range h.acts.failed {
		failed = append(failed, c.IdempotencyKey)
	}
	wantKeys(t, failed, "period-2/charge", "period-2/retry-1", "period-2/retry-2", "period-2/retry-3", "period-2/retry-4")
	wantStatuses(t, h.acts, "pending", "active", "past_due", "suspended", "expired")
	feb15 := time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)
	if s.EndReason != "dunning_exhausted" || !s.EndedAt.Equal(feb15.Add(7*day)) {
		t.Fatalf("state: %+v", s)
	}
}

func TestRecoveryAfterCardUpdate(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(20*day, func() { h.acts.setDeclining(true) })
	var retry error
	var pastDue workflows.State
	h.at(33*day, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&pastDue)
		h.acts.setDeclining(false) // the customer put in a new card
	})
	h.update(33*day+time.Hour, workflows.UpdateRetryPayment, workflows.RetryPaymentInput{}, &retry)
	h.at(45*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if retry != nil {
		t.Fatal(retry)
	}
	if pastDue.Status != domain.PurchasePastDue || !pastDue.HasAccess() || pastDue.NextBillingAt() == nil {
		t.Fatalf("in dunning: %+v", pastDue)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/retry-2")
	wantStatuses(t, h.acts, "pending", "active", "past_due", "active", "pending_cancellation", "cancelled")
	if !s.EndedAt.Equal(time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("the recovered period keeps its schedule: ended %v", s.EndedAt)
	}
}

func TestCancelWhilePastDueEndsAtOnce(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(20*day, func() { h.acts.setDeclining(true) })
	var retry error
	h.update(32*day, workflows.UpdateRetryPayment, workflows.RetryPaymentInput{}, &retry)
	h.at(33*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	refusal(t, retry, domain.CodePaymentRequired, "failed again")
	wantStatuses(t, h.acts, "pending", "active", "past_due", "cancelled")
	if !s.EndedAt.Equal(start.Add(33 * day)) {
		t.Fatalf("ended %v", s.EndedAt)
	}
}

func TestRefunds(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var partial, again, tooMuch, rest, unknown, other error
	h.update(3*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", Amount: 300}, &partial)
	h.update(4*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", Amount: 300}, &again)
	h.update(5*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r2", Amount: 800}, &tooMuch)
	h.update(6*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", Amount: 200}, &other)
	h.update(7*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r3", TransactionRef: "txn_zzz"}, &unknown)
	h.update(8*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r4"}, &rest)
	s := h.run()
	if partial != nil || again != nil || rest != nil {
		t.Fatalf("refunds: %v %v %v", partial, again, rest)
	}
	refusal(t, tooMuch, domain.CodeInvalidField, "cannot refund 800: only 700")
	refusal(t, other, domain.CodeConflict, "already used")
	refusal(t, unknown, domain.CodeInvalidField, "is not a payment of purchase pur_t")
	if len(h.acts.refunds) != 2 || h.acts.refunds[0].IdempotencyKey != "pur_t/refund/r1" || h.acts.refunds[1].Amount != 700 {
		t.Fatalf("refunds made: %+v", h.acts.refunds)
	}
	wantStatuses(t, h.acts, "pending", "active", "refunded")
	if s.RefundedTotal != 1000 || s.Status != domain.PurchaseRefunded || h.acts.lastProjection().RefundedTotal != 1000 {
		t.Fatalf("state: %+v", s)
	}
}

func TestFullRefundOfAnEarlierPeriodKeepsAccess(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var refund error
	h.update(35*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", TransactionRef: "txn_1"}, &refund)
	h.at(36*day, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		var s workflows.State
		_ = v.Get(&s)
		if s.Status != domain.PurchaseActive || s.RefundedTotal != 1000 {
			t.Errorf("after refunding period 1: %+v", s)
		}
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	h.run()
	if refund != nil || len(h.acts.refunds) != 1 || h.acts.refunds[0].SourceTxnRef != "txn_1" {
		t.Fatalf("refund: %v %+v", refund, h.acts.refunds)
	}
}

func TestAdvanceClockPlaysEveryBoundary(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var adv, backwards error
	h.update(day, workflows.UpdateAdvanceClock, workflows.AdvanceClockInput{To: start.Add(100 * day)}, &adv)
	h.update(2*day, workflows.UpdateAdvanceClock, workflows.AdvanceClockInput{To: start.Add(50 * day)}, &backwards)
	h.at(3*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if adv != nil {
		t.Fatal(adv)
	}
	refusal(t, backwards, domain.CodeInvalidField, "only moves forward")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge", "period-3/charge", "period-4/charge")
	if !s.EndedAt.Equal(time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("ended %v", s.EndedAt)
	}
}

func TestAdvanceClockRefusedOutsideSandbox(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.in.Sandbox = false
	var adv error
	h.update(day, workflows.UpdateAdvanceClock, workflows.AdvanceClockInput{To: start.Add(100 * day)}, &adv)
	h.at(2*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	h.run()
	refusal(t, adv, domain.CodeConflict, "sandbox purchases only")
}

func TestContinueAsNewCarriesTheState(t *testing.T) {
	h := newHarness(t, recurring(1000))
	next := h.runToContinueAsNew()
	if got := len(h.acts.charges); got != 1+workflows.PeriodsPerRun || next.State == nil || next.State.Period != 13 {
		t.Fatalf("after one run: %d charges, state %+v", got, next.State)
	}

	// the next run goes on from the carried state (period 13, sequence numbers still rising)
	// and is cancelled before period 14
	h2 := newHarness(t, recurring(1000), h.acts)
	h2.in = next
	h2.at(day, func() { h2.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h2.run()
	if s.Runs != 2 || s.Period != 13 || len(h.acts.charges) != 13 || s.Status != domain.PurchaseCancelled {
		t.Fatalf("second run: runs %d period %d charges %d status %s", s.Runs, s.Period, len(h.acts.charges), s.Status)
	}
}
