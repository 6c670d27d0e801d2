package workflows_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

func perSeat(price int64) domain.Plan {
	return domain.Plan{Type: domain.PlanRecurring, Price: price, PerSeat: true}
}

// A per-seat purchase pays price × seats; more seats is charged now, prorated like an upgrade
// (the preview and the change agree), fewer seats wait for the period end and the renewal
// charges the new count. The purchase starts 2026-01-15 10:00 UTC: its first period has 31 days.
func TestSeatChanges(t *testing.T) {
	h := newHarness(t, perSeat(1000))
	h.in.Quantity = 3
	more := workflows.ChangePlanInput{Quantity: 5, RequestKey: "more"}
	var before, afterMore, afterFewer workflows.State
	var quote workflows.ChangeQuote
	var qerr, moreErr, fewerErr error
	h.at(10*day, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&before)
		quote, qerr = workflows.QuoteChange(before, more, h.env.Now())
	})
	h.update(10*day, workflows.UpdateChangePlan, more, &moreErr)
	h.at(10*day+time.Minute, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&afterMore)
	})
	h.update(12*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{Quantity: 2, RequestKey: "fewer"}, &fewerErr)
	h.at(12*day+time.Minute, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&afterFewer)
	})
	h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if qerr != nil || moreErr != nil || fewerErr != nil {
		t.Fatalf("preview %v, more seats %v, fewer seats %v", qerr, moreErr, fewerErr)
	}
	// 21 of 31 days left: credit 3000×21/31 = 2032.26, charge 5000×21/31 = 3387.10
	if quote.Direction != workflows.ChangeUpgrade || quote.Effective != workflows.EffectiveNow || quote.Total != 1355 ||
		quote.FromQuantity != 3 || quote.ToQuantity != 5 {
		t.Fatalf("preview: %+v", quote)
	}
	c := afterMore.LastChange
	if c == nil || c.Total != quote.Total || afterMore.Quantity != 5 || afterMore.Plan.Ref != "pln_a" || c.ToQuantity != 5 {
		t.Fatalf("after more seats: %+v (change %+v)", afterMore, c)
	}
	sc := afterFewer.ScheduledChange
	if sc == nil || sc.Quantity != 2 || !sc.At.Equal(afterFewer.PeriodEnd) || afterFewer.Quantity != 5 {
		t.Fatalf("fewer seats: %+v", afterFewer)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "change-1/charge", "period-2/charge")
	if a := []int64{h.acts.charges[0].Amount, h.acts.charges[1].Amount, h.acts.charges[2].Amount}; a[0] != 3000 || a[1] != 1355 || a[2] != 2000 {
		t.Fatalf("charged %v, want [3000 1355 2000]", a)
	}
	if s.Quantity != 2 || s.ScheduledChange != nil {
		t.Fatalf("after the boundary: %d seats, scheduled %+v", s.Quantity, s.ScheduledChange)
	}
	if p := h.acts.projections; p[len(p)-1].Quantity != 2 {
		t.Fatalf("projection: %+v", p[len(p)-1])
	}
}

// A quantity the plan cannot have is refused before it enters the history, naming quantity.
func TestSeatRefusals(t *testing.T) {
	h := newHarness(t, perSeat(1000))
	var zero, negative, huge, same error
	h.update(day, workflows.UpdateChangePlan, workflows.ChangePlanInput{Quantity: -1, RequestKey: "a"}, &negative)
	h.update(2*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{Quantity: domain.MaxQuantity + 1, RequestKey: "b"}, &huge)
	h.update(3*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{Quantity: 1, RequestKey: "c"}, &same)
	h.update(4*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{RequestKey: "d"}, &zero)
	h.at(5*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	refusal(t, negative, domain.CodeInvalidField, "quantity must be at least 1")
	refusal(t, huge, domain.CodeInvalidField, "quantity must be at most")
	refusal(t, same, domain.CodeConflict, "already on plan pln_a with quantity 1")
	refusal(t, zero, domain.CodeConflict, "already on plan pln_a")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge")
	if s.Quantity > 1 || s.LastChange != nil {
		t.Fatalf("state after refusals: %+v", s)
	}

	flat := newHarness(t, recurring(1000))
	var seats error
	flat.update(day, workflows.UpdateChangePlan, workflows.ChangePlanInput{Quantity: 2, RequestKey: "a"}, &seats)
	flat.at(2*day, func() { flat.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	flat.run()
	refusal(t, seats, domain.CodeInvalidField, "not priced per seat")
}
