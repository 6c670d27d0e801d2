package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Period ends of a purchase started at `start` (Jan 15, 10:00 UTC), monthly.
var (
	feb15 = time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)
	mar15 = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	apr15 = time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	may15 = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)
)

// noSmallCharges fails if any charge attempt carried an amount the processor would refuse as too
// small (the sandbox and Stripe answer amount_too_small), or no amount at all.
func noSmallCharges(t *testing.T, f *fakeActivities) {
	t.Helper()
	for _, a := range f.attempts {
		if a.Amount <= 0 || money.BelowMinimum(a.Currency, a.Amount) {
			t.Fatalf("a charge of %d %s was sent (%s)", a.Amount, a.Currency, a.IdempotencyKey)
		}
	}
}

func (h *harness) stateAt(d time.Duration, into *workflows.State) {
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		if err == nil {
			err = v.Get(into)
		}
		if err != nil {
			h.t.Error(err)
		}
	})
}

// A plan price below the minimum charge (30 cents, USD's minimum is 50) is never sent: the
// purchase activates and renews with it carried, charges once the carried sum reaches the
// minimum, and a purchase that ends keeps what it carried uncharged.
func TestSmallChargesCarryUntilTheyReachTheMinimum(t *testing.T) {
	h := newHarness(t, recurring(30))
	var afterActivation, period2, period3 workflows.State
	h.stateAt(day, &afterActivation)
	h.stateAt(feb15.Add(day).Sub(start), &period2)
	h.stateAt(mar15.Add(day).Sub(start), &period3)
	h.at(apr15.Add(day).Sub(start), func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	s := h.run()

	noSmallCharges(t, h.acts)
	// period 1: 30 carried; period 2: 30+30 = 60 charged; period 3: 30 carried; period 4: 60 charged
	wantKeys(t, h.acts.chargeKeys(), "period-2/charge", "period-4/charge")
	for _, c := range h.acts.charges {
		if c.Amount != 60 {
			t.Fatalf("charge %s of %d, want 60", c.IdempotencyKey, c.Amount)
		}
	}
	if afterActivation.Status != domain.PurchaseActive || afterActivation.Carried != 30 || afterActivation.PaidTotal != 0 {
		t.Fatalf("after activation: status %s, carried %d, paid %d", afterActivation.Status, afterActivation.Carried, afterActivation.PaidTotal)
	}
	if period2.Carried != 0 || period2.PaidTotal != 60 || period3.Carried != 30 || period3.Period != 3 {
		t.Fatalf("period 2: carried %d paid %d; period 3: carried %d", period2.Carried, period2.PaidTotal, period3.Carried)
	}
	wantStatuses(t, h.acts, "pending", "active", "pending_cancellation", "cancelled")
	if s.Status != domain.PurchaseCancelled || s.Carried != 0 || s.PaidTotal != 120 {
		t.Fatalf("end: %+v", s)
	}
	carriedAudits := 0
	for _, a := range h.acts.audits {
		if strings.HasPrefix(a.Detail, "carried 30 USD: below the minimum charge of 50") {
			carriedAudits++
		}
	}
	if carriedAudits != 2 {
		t.Fatalf("want the two carried periods audited, got %+v", h.acts.audits)
	}
	// the projection shows what is carried at each step
	var shown []int64
	for _, p := range h.acts.projections {
		if len(shown) == 0 || shown[len(shown)-1] != p.CarriedAmount {
			shown = append(shown, p.CarriedAmount)
		}
	}
	if !slices.Equal(shown, []int64{0, 30, 0, 30, 0}) { // pending, activated, period 2, 3, 4
		t.Fatalf("carriedAmount as projected: %v", shown)
	}
}

// Small metered overages carry from period to period and are charged once their sum reaches the
// minimum; a period without usage charges nothing; the final bill of a cancelled purchase below
// the minimum is never charged and stays shown as carried.
func TestSmallOveragesCarryAndZeroChargesNothing(t *testing.T) {
	h := newHarness(t, domain.Plan{Type: domain.PlanUsageBased, UnitPrice: 2, FreeUnits: 5})
	h.acts.usage[start] = 15 // 10 billable × 2 = 20: carried
	h.acts.usage[feb15] = 0  // nothing: 20 still carried
	h.acts.usage[mar15] = 20 // 15 × 2 = 30, with 20 carried = 50: charged
	h.acts.usage[apr15] = 12 // 7 × 2 = 14: the final bill, below the minimum
	h.at(apr15.Add(day).Sub(start), func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	s := h.run()

	noSmallCharges(t, h.acts)
	wantKeys(t, h.acts.chargeKeys(), "period-4/charge")
	if a := h.acts.charges[0].Amount; a != 50 {
		t.Fatalf("charged %d, want 50 (20 carried over two periods + 30)", a)
	}
	if s.Status != domain.PurchaseCancelled || !s.EndedAt.Equal(may15) || s.Carried != 14 || s.PaidTotal != 50 {
		t.Fatalf("end: status %s ended %v carried %d paid %d", s.Status, s.EndedAt, s.Carried, s.PaidTotal)
	}
	if p := h.acts.lastProjection(); p.CarriedAmount != 14 {
		t.Fatalf("the ended purchase shows carried %d, want 14 (never charged)", p.CarriedAmount)
	}
}

// A carried amount goes into the next charge, and with it into dunning when that charge is
// declined: the retry collects all of it.
func TestCarriedAmountIsCollectedByDunning(t *testing.T) {
	h := newHarness(t, recurring(30))
	var pastDue workflows.State
	h.at(20*day, func() { h.acts.setDeclining(true) })
	h.stateAt(feb15.Add(time.Hour).Sub(start), &pastDue)
	h.at(feb15.Add(2*time.Hour).Sub(start), func() { h.acts.setDeclining(false) })
	h.at(feb15.Add(3*day).Sub(start), func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	s := h.run()

	noSmallCharges(t, h.acts)
	if pastDue.Status != domain.PurchasePastDue || pastDue.Dunning == nil || pastDue.Dunning.Amount != 60 || pastDue.Carried != 0 {
		t.Fatalf("past due: %+v", pastDue)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-2/retry-1")
	if h.acts.charges[0].Amount != 60 || s.PaidTotal != 60 {
		t.Fatalf("retry charged %d, paid %d", h.acts.charges[0].Amount, s.PaidTotal)
	}
}

// Overage arithmetic is checked: usage whose price overflows an int64 is refused (audited, not
// charged) instead of wrapping. 2^33 units at 2^31+1 per unit wraps to exactly 2^33 unchecked: a
// charge of 8,589,934,592 cents would have gone out.
func TestOverflowingOverageIsRefusedNotWrapped(t *testing.T) {
	const units, unitPrice = int64(1) << 33, int64(1)<<31 + 1
	if _, err := workflows.Overage(domain.Plan{UnitPrice: unitPrice}, units); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("Overage: %v", err)
	}
	h := newHarness(t, domain.Plan{Type: domain.PlanHybrid, Price: 2000, UnitPrice: unitPrice})
	h.acts.usage[start] = units
	h.acts.usage[feb15] = 3
	h.at(mar15.Add(day).Sub(start), func() {
		h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{})
	})
	s := h.run()

	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge", "period-3/charge")
	want := []int64{2000, 2000, 2000 + 3*unitPrice}
	for i, c := range h.acts.charges {
		if c.Amount != want[i] {
			t.Fatalf("charge %s of %d, want %d", c.IdempotencyKey, c.Amount, want[i])
		}
	}
	refused := 0
	for _, a := range h.acts.audits {
		if a.Action == "overage_refused" {
			refused++
			if !strings.Contains(a.Detail, "8589934592 units") || !strings.Contains(a.Detail, "not charged") {
				t.Fatalf("audit: %+v", a)
			}
		}
	}
	if refused != 1 || s.Status != domain.PurchaseCancelled {
		t.Fatalf("refusals audited %d, status %s", refused, s.Status)
	}
}

// An upgrade whose prorated difference is below the minimum charge (a dollar more, on the last
// day of the period: 3 cents) is made without a charge of its own; the difference is carried and
// charged with the next renewal.
func TestSmallPlanChangeDifferenceCarries(t *testing.T) {
	h := newHarness(t, recurring(1000))
	in := workflows.ChangePlanInput{NewPlan: planB(domain.PlanRecurring, 1100, domain.CycleMonthly), RequestKey: "req-1"}
	var quote workflows.ChangeQuote
	var qerr, change error
	h.at(30*day, func() {
		var s workflows.State
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		if err == nil {
			err = v.Get(&s)
		}
		if err != nil {
			t.Fatal(err)
		}
		quote, qerr = workflows.QuoteChange(s, in, h.env.Now())
	})
	h.update(30*day, workflows.UpdateChangePlan, in, &change)
	var after workflows.State
	h.stateAt(30*day+time.Second, &after)
	h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	h.run()

	if qerr != nil || change != nil || quote.Total <= 0 || !money.BelowMinimum("USD", quote.Total) {
		t.Fatalf("quote %d (%v), change %v", quote.Total, qerr, change)
	}
	noSmallCharges(t, h.acts)
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge")
	if after.Plan.Ref != "pln_b" || after.Carried != quote.Total || after.LastChange == nil || !after.LastChange.Carried {
		t.Fatalf("after the change: plan %s, carried %d, change %+v", after.Plan.Ref, after.Carried, after.LastChange)
	}
	if got := h.acts.charges[1].Amount; got != 1100+quote.Total {
		t.Fatalf("renewal charged %d, want 1100 + %d carried", got, quote.Total)
	}
}
