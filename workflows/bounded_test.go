package workflows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A purchase that renews for 10 years (120 monthly periods, 10 runs chained by continue-as-new)
// keeps a bounded state: the payments the processor may still refund, never all of them, while
// every charge was made once and the totals count them all.
func TestTenYearsOfRenewalsKeepTheStateBounded(t *testing.T) {
	acts := newFake()
	plan := recurring(1000)
	h := newHarness(t, plan, acts)
	var refund error
	h.update(3*day, workflows.UpdateRefund, workflows.RefundInput{RequestKey: "r1", TransactionRef: "txn_1", Amount: 100}, &refund)
	next := h.runToContinueAsNew() // periods 1 to 13
	// a year on, period 1's payment and its refund are past the refund window: forgotten, counted
	if refund != nil || len(next.State.Refunds) != 0 || next.State.RefundedTotal != 100 || next.State.Payments[0].Period == 1 {
		t.Fatalf("refund of period 1: %v, state %+v", refund, next.State)
	}
	largest := 0
	// each later run starts an hour before its next period end and renews PeriodsPerRun times
	resume := func() {
		h = newHarness(t, plan, acts)
		h.env.SetStartTime(next.State.PeriodEnd.Add(-time.Hour))
		h.in = next
	}
	for next.State.Period+workflows.PeriodsPerRun < 120 {
		resume()
		next = h.runToContinueAsNew()
		largest = max(largest, stateSize(t, *next.State))
	}
	// the last run renews up to period 120 and is cancelled during it
	resume()
	s := next.State
	period120 := h.in.Plan.PeriodBoundary(s.Anchor, 119, nil)
	h.at(period120.Sub(s.PeriodEnd.Add(-time.Hour))+day, func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	final := h.run()
	if final.Period != 120 || final.PaidTotal != 120*1000 || final.RefundedTotal != 100 || len(final.Refunds) != 0 || len(acts.charges) != 120 || final.Status != domain.PurchaseCancelled {
		t.Fatalf("after 10 years: period %d paid %d charges %d status %s", final.Period, final.PaidTotal, len(acts.charges), final.Status)
	}
	// about six months of payments: those inside the 180-day refund window
	if n := len(final.Payments); n < 6 || n > 7 || final.Payments[n-1].Period != 120 {
		t.Fatalf("the state keeps %d payments (last period %d), want the 6 or 7 inside the refund window", n, final.Payments[n-1].Period)
	}
	size := stateSize(t, final)
	if size > 6000 || largest > 6000 {
		t.Fatalf("state of %d bytes (largest carried %d): not bounded", size, largest)
	}
	t.Logf("after 120 periods: %d payments kept, query answer %d bytes, largest continue-as-new state %d bytes", len(final.Payments), size, largest)
}

func stateSize(t *testing.T, s workflows.State) int {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(raw)
}
