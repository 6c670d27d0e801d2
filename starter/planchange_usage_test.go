package starter_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/usage"
)

// The old plan's metered overage up to a change now is billed with the change, at the old plan's
// prices (its free units first); what is used after it is billed at the renewal on the new plan,
// whose free units those billed at the change used up. Every recorded unit is billed once.
// A declined change bills nothing: its units are owed to the renewal, still on the old plan.
func TestUsageUpToAChangeIsBilledWithIt(t *testing.T) {
	s := newStack(t)
	basic := s.plan(domain.Plan{Type: domain.PlanHybrid, Name: "Basic", Price: 1000, FreeUnits: 10, UnitPrice: 100,
		Meter: "requests", BillingCycle: domain.CycleMonthly})
	pro := s.plan(domain.Plan{Type: domain.PlanHybrid, Name: "Pro", Price: 3000, FreeUnits: 100, UnitPrice: 50,
		Meter: "requests", BillingCycle: domain.CycleMonthly})
	team := s.plan(domain.Plan{Type: domain.PlanHybrid, Name: "Team", Price: 9000, FreeUnits: 100, UnitPrice: 10,
		Meter: "requests", BillingCycle: domain.CycleMonthly})
	cus, pm := s.customer("pm_card_visa")
	st := s.start(cus, basic)
	ref := st.PurchaseRef
	st = s.advance(ref, st.PeriodStart.AddDate(0, 0, 10))
	n := 0
	record := func(units int64) {
		t.Helper()
		n++
		if _, err := usage.New(s.st.Pool).RecordMany(s.ctx, s.merchant, []usage.Event{{CustomerRef: cus.Ref, ProductRef: s.product.Ref,
			Meter: "requests", Units: units, Outcome: usage.OutcomeSuccess, IdempotencyKey: fmt.Sprintf("ev-%d", n),
			OccurredAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	record(25)

	up := starter.ChangePlanRequest{PlanRef: pro.Ref, RequestKey: "up"}
	q, err := s.c.PreviewChange(s.ctx, s.merchant, ref, up)
	if err != nil {
		t.Fatal(err)
	}
	up.ProrationDate = &q.ProrationDate
	res, err := s.c.ChangePlan(s.ctx, s.merchant, ref, up)
	if err != nil || res.Change == nil {
		t.Fatalf("change: %v %+v", err, res)
	}
	var usage []money.Line
	for _, l := range res.Change.Lines {
		if l.Kind == money.LineUsage {
			usage = append(usage, l)
		}
	}
	if len(usage) != 1 || usage[0].Quantity != 25 || usage[0].Amount != (25-10)*100 || res.Change.Total != q.Total {
		t.Fatalf("the change's lines %+v (total %d), want 25 units at Basic's prices; preview total %d", res.Change.Lines, res.Change.Total, q.Total)
	}
	ok, _ := s.ledger(ref)
	if len(ok) != 2 || ok[1].Amount != res.Change.Total {
		t.Fatalf("ledger after the change: %+v", ok)
	}

	// A declined change takes the units up to it from the counters and bills them nowhere: they
	// are owed to the renewal, on Pro (the plan it stays on).
	record(120)
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourFailsAfterAttach); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.ChangePlan(s.ctx, s.merchant, ref, starter.ChangePlanRequest{PlanRef: team.Ref}); domain.ErrorCode(err) != domain.CodePaymentRequired {
		t.Fatalf("declined change: %v", err)
	}
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourSucceeds); err != nil {
		t.Fatal(err)
	}
	record(5)
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	ok, _ = s.ledger(ref)
	// Pro's 100 free units less the 25 billed at the change: 75 free, 125 - 75 = 50 at 50.
	if len(ok) != 3 || ok[2].Amount != 3000+50*50 || st.Plan.Ref != pro.Ref {
		t.Fatalf("renewal after the change: %+v (plan %s)", ok, st.Plan.Ref)
	}
	var billed int64
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT COALESCE(sum(units), 0) FROM usage_bills WHERE merchant_id = $1 AND customer_id = $2`,
		s.merchant, cus.Ref).Scan(&billed); err != nil || billed != 25+120+5 {
		t.Fatalf("billed units %d (%v), recorded %d", billed, err, 25+120+5)
	}
	recordHistory(s, ref, "plan-changed-usage")
}

// A downgrade made now with always_invoice refunds its net credit at once; a change to another
// cycle length starts a new period at the change. Both are recorded for the replay test.
func TestAlwaysInvoiceAndCycleChange(t *testing.T) {
	s := newStack(t)
	basic := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Basic", Price: 1000})
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 3000})
	yearly := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro yearly", Price: 30000, BillingCycle: domain.CycleYearly})
	cus, _ := s.customer("4242424242424242")

	st := s.start(cus, pro)
	st = s.advance(st.PurchaseRef, st.PeriodStart.AddDate(0, 0, 10))
	res, err := s.c.ChangePlan(s.ctx, s.merchant, st.PurchaseRef, starter.ChangePlanRequest{PlanRef: basic.Ref,
		ProrationBehavior: "always_invoice", Effective: "now"})
	if err != nil || res.Change == nil || res.Change.Total >= 0 || len(res.Change.RefundRef) != 1 || res.Purchase.Credit != 0 ||
		res.Purchase.RefundedTotal != -res.Change.Total {
		t.Fatalf("always_invoice downgrade: %v %+v", err, res)
	}
	recordHistory(s, st.PurchaseRef, "plan-changed-always-invoice")

	cus2, _ := s.customer("4242424242424242")
	st = s.start(cus2, basic)
	st = s.advance(st.PurchaseRef, st.PeriodStart.AddDate(0, 0, 10))
	res, err = s.c.ChangePlan(s.ctx, s.merchant, st.PurchaseRef, starter.ChangePlanRequest{PlanRef: yearly.Ref})
	if err != nil || res.Change == nil || res.Change.Total <= 0 || !res.Purchase.PeriodStart.Equal(res.Change.At) ||
		!res.Purchase.PeriodEnd.Equal(res.Change.At.AddDate(1, 0, 0)) {
		t.Fatalf("monthly to yearly: %v %+v", err, res)
	}
	recordHistory(s, st.PurchaseRef, "plan-changed-cycle")
}
