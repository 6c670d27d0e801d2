package workflows_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/workflows"
)

func planB(typ domain.PlanType, price int64, cycle domain.BillingCycle) domain.Plan {
	return domain.Plan{Ref: "pln_b", ProductRef: "prd_a", Name: "Plan B", Type: typ, Price: price, Currency: "USD",
		BillingCycle: cycle, Status: domain.StatusActive}
}

// TestPlanChangeCases plays plan changes through the workflow and holds, for each, the preview
// (QuoteChange on the state the query answers, at the same instant) and the change together,
// and both to the total computed by hand. The purchase starts 2026-01-15 10:00 UTC, so its
// first monthly period has 31 days.
func TestPlanChangeCases(t *testing.T) {
	monthly := domain.CycleMonthly
	for _, tc := range []struct {
		name   string
		old    domain.Plan
		new    domain.Plan
		after  time.Duration
		in     workflows.ChangePlanInput
		total  int64    // settled at the change: > 0 charged, < 0 credited
		credit int64    // kept on the purchase after the change
		keys   []string // every charge of the purchase until it is cancelled
	}{
		{"upgrade a minute in", recurring(1000), planB(domain.PlanRecurring, 3000, monthly), time.Minute, workflows.ChangePlanInput{},
			2000, 0, []string{"period-1/charge", "change-1/charge", "period-2/charge"}}, // −1000 + 3000 (2,678,340 of 2,678,400 s)
		{"upgrade mid-period", recurring(1000), planB(domain.PlanRecurring, 3000, monthly), 10 * day, workflows.ChangePlanInput{},
			1355, 0, []string{"period-1/charge", "change-1/charge", "period-2/charge"}}, // −677 + 2032 (21 of 31 days)
		{"upgrade on the last day", recurring(1000), planB(domain.PlanRecurring, 3000, monthly), 30 * day, workflows.ChangePlanInput{},
			65, 0, []string{"period-1/charge", "change-1/charge", "period-2/charge"}}, // −32 + 97
		{"downgrade now keeps the credit", recurring(3000), planB(domain.PlanRecurring, 1000, monthly), 10 * day,
			workflows.ChangePlanInput{Effective: workflows.EffectiveNow},
			-1355, 1355, []string{"period-1/charge"}}, // the credit pays period 2 (1000) and keeps 355
		{"downgrade now, always_invoice refunds", recurring(3000), planB(domain.PlanRecurring, 1000, monthly), 10 * day,
			workflows.ChangePlanInput{Effective: workflows.EffectiveNow, ProrationBehavior: workflows.ProrateAlwaysInvoice},
			-1355, 0, []string{"period-1/charge", "period-2/charge"}},
		{"monthly to yearly restarts the period", recurring(1000), planB(domain.PlanRecurring, 10000, domain.CycleYearly), 10 * day,
			workflows.ChangePlanInput{Effective: workflows.EffectiveNow}, 9323, 0, []string{"period-1/charge", "change-1/charge"}}, // −677 + a whole year
		{"free to paid", domain.Plan{Type: domain.PlanFree}, planB(domain.PlanRecurring, 3000, monthly), 10 * day,
			workflows.ChangePlanInput{}, 2032, 0, []string{"change-1/charge", "period-2/charge"}},
		{"no proration", recurring(1000), planB(domain.PlanRecurring, 3000, monthly), 10 * day,
			workflows.ChangePlanInput{ProrationBehavior: workflows.ProrateNone}, 0, 0, []string{"period-1/charge", "period-2/charge"}},
		{"trial: nothing now, the new price at the trial's end", domain.Plan{Type: domain.PlanRecurring, Price: 1000, TrialDays: 14},
			planB(domain.PlanRecurring, 3000, monthly), 3 * day, workflows.ChangePlanInput{}, 0, 0, []string{"period-1/charge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.old)
			var before workflows.State
			var quote workflows.ChangeQuote
			var qerr, change error
			in := tc.in
			in.NewPlan, in.RequestKey = tc.new, "req-1"
			h.at(tc.after, func() {
				v, err := h.env.QueryWorkflow(workflows.QueryState)
				if err == nil {
					err = v.Get(&before)
				}
				if err != nil {
					t.Fatal(err)
				}
				quote, qerr = workflows.QuoteChange(before, in, h.env.Now())
			})
			h.update(tc.after, workflows.UpdateChangePlan, in, &change)
			var after workflows.State
			h.at(tc.after+time.Second, func() {
				v, _ := h.env.QueryWorkflow(workflows.QueryState)
				_ = v.Get(&after)
			})
			h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
			s := h.run()
			if qerr != nil || change != nil {
				t.Fatalf("preview %v, change %v", qerr, change)
			}
			c := after.LastChange
			if quote.Total != tc.total || c == nil || c.Total != quote.Total || money.Sum(c.Lines) != quote.Total ||
				len(c.Lines) != len(quote.Lines) {
				t.Fatalf("preview %d (%+v), change %+v; want %d", quote.Total, quote.Lines, c, tc.total)
			}
			if after.Plan.Ref != "pln_b" || after.Credit != tc.credit || after.Anchor.IsZero() {
				t.Fatalf("after the change: plan %s credit %d (want %d)", after.Plan.Ref, after.Credit, tc.credit)
			}
			wantKeys(t, h.acts.chargeKeys(), tc.keys...)
			for _, ch := range h.acts.charges {
				if ch.IdempotencyKey == "pur_t/change-1/charge" && ch.Amount != tc.total {
					t.Fatalf("charged %d for the change, previewed %d", ch.Amount, tc.total)
				}
			}
			if tc.in.ProrationBehavior == workflows.ProrateAlwaysInvoice {
				if len(h.acts.refunds) != 1 || h.acts.refunds[0].Amount != -tc.total || s.RefundedTotal != -tc.total {
					t.Fatalf("refunds %+v, refunded total %d", h.acts.refunds, s.RefundedTotal)
				}
			}
		})
	}
}

// A declined charge of the difference leaves the purchase on its old plan, unchanged, and the
// caller reads the decline; the same request again answers the same decline, a new one tries
// again under a new key.
func TestPlanChangeDeclinedKeepsTheOldPlan(t *testing.T) {
	h := newHarness(t, recurring(1000))
	in := workflows.ChangePlanInput{NewPlan: planB(domain.PlanRecurring, 3000, domain.CycleMonthly), RequestKey: "req-1"}
	var first, again, retry error
	var mid workflows.State
	h.at(10*day-time.Second, func() { h.acts.setDeclining(true) })
	h.update(10*day, workflows.UpdateChangePlan, in, &first)
	h.at(10*day+time.Minute, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&mid)
	})
	h.update(11*day, workflows.UpdateChangePlan, in, &again)
	h.at(12*day-time.Second, func() { h.acts.setDeclining(false) })
	retryIn := in
	retryIn.RequestKey = "req-2"
	h.update(12*day, workflows.UpdateChangePlan, retryIn, &retry)
	h.at(20*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	refusal(t, first, domain.CodePaymentRequired, "declined (card_declined); the purchase stays on plan pln_a")
	refusal(t, again, domain.CodePaymentRequired, "declined (card_declined)")
	if mid.Plan.Ref != "pln_a" || mid.Status != domain.PurchaseActive || mid.PaidTotal != 1000 || mid.Credit != 0 {
		t.Fatalf("after the decline: %+v", mid)
	}
	if retry != nil || s.Plan.Ref != "pln_b" {
		t.Fatalf("retry: %v, plan %s", retry, s.Plan.Ref)
	}
	// 19 of 31 days left at the retry: −613 + 1839
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "change-2/charge")
	if h.acts.charges[1].Amount != 1226 || len(h.acts.failed) != 1 || h.acts.failed[0].IdempotencyKey != "pur_t/change-1/charge" {
		t.Fatalf("charges %+v failed %+v", h.acts.charges, h.acts.failed)
	}
}

// A downgrade waits for the period end by default: scheduled, visible, cancellable, then applied
// at the boundary where the renewal charges the new price.
func TestDowngradeScheduledAtPeriodEnd(t *testing.T) {
	h := newHarness(t, recurring(3000))
	down := workflows.ChangePlanInput{NewPlan: planB(domain.PlanRecurring, 1000, domain.CycleMonthly), RequestKey: "down-1"}
	var schedule, cancel, cancelAgain, schedule2 error
	var scheduled, cancelled workflows.State
	h.update(5*day, workflows.UpdateChangePlan, down, &schedule)
	h.at(5*day+time.Minute, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&scheduled)
	})
	h.update(6*day, workflows.UpdateCancelScheduledChange, workflows.CancelScheduledChangeInput{}, &cancel)
	h.at(6*day+time.Minute, func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&cancelled)
	})
	h.update(7*day, workflows.UpdateCancelScheduledChange, workflows.CancelScheduledChangeInput{}, &cancelAgain)
	down.RequestKey = "down-2"
	h.update(8*day, workflows.UpdateChangePlan, down, &schedule2)
	h.at(40*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if schedule != nil || cancel != nil || schedule2 != nil {
		t.Fatalf("updates: %v %v %v", schedule, cancel, schedule2)
	}
	sc := scheduled.ScheduledChange
	if sc == nil || sc.Plan.Ref != "pln_b" || !sc.At.Equal(time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)) || scheduled.Plan.Ref != "pln_a" {
		t.Fatalf("scheduled: %+v", scheduled)
	}
	if cancelled.ScheduledChange != nil || cancelled.Plan.Ref != "pln_a" {
		t.Fatalf("after cancelling: %+v", cancelled)
	}
	refusal(t, cancelAgain, domain.CodeConflict, "no plan change is scheduled")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge")
	if h.acts.charges[1].Amount != 1000 || s.Plan.Ref != "pln_b" || s.ScheduledChange != nil {
		t.Fatalf("renewal after the downgrade: %+v, plan %s", h.acts.charges[1], s.Plan.Ref)
	}
	if p := h.acts.projections; p[len(p)-1].PlanRef != "pln_b" {
		t.Fatalf("projection: %+v", p[len(p)-1])
	}
}

func TestPlanChangeRefusals(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var same, archived, otherProduct, badOption, afterCancel error
	b := planB(domain.PlanRecurring, 3000, domain.CycleMonthly)
	arch := b
	arch.Status = domain.StatusArchived
	other := b
	other.ProductRef = "prd_other"
	h.update(day, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: h.in.Plan, RequestKey: "a"}, &same)
	h.update(2*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: arch, RequestKey: "b"}, &archived)
	h.update(3*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: other, RequestKey: "c"}, &otherProduct)
	h.update(4*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: b, RequestKey: "d", Effective: "tomorrow"}, &badOption)
	h.at(5*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	h.update(6*day, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: b, RequestKey: "e"}, &afterCancel)
	h.run()
	refusal(t, same, domain.CodeConflict, "already on plan pln_a")
	refusal(t, archived, domain.CodeInvalidField, "the plan is archived")
	refusal(t, otherProduct, domain.CodeInvalidField, "another product")
	refusal(t, badOption, domain.CodeInvalidField, "effective must be now or period_end")
	refusal(t, afterCancel, domain.CodeConflict, "reactivate it first")
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge")
}
