package starter_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A change of seats is a plan change of the same purchase: more seats previewed and charged
// exactly the preview under the change's key, fewer seats scheduled for the period end and
// charged by the renewal; the terms the starter records carry the seats, so every charge passes
// the worker's check.
func TestSeatChangeInsideThePurchase(t *testing.T) {
	s := newStack(t)
	team := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Team", Price: 1000, PerSeat: true})
	cus, _ := s.customer("4242424242424242")
	st, err := s.c.Start(s.ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: team.Ref, Quantity: 3})
	if err != nil || st.Quantity != 3 || st.PaidTotal != 3000 {
		t.Fatalf("start with 3 seats: %v %+v", err, st)
	}
	ref := st.PurchaseRef
	st = s.advance(ref, st.PeriodStart.AddDate(0, 0, 10))

	more := starter.ChangePlanRequest{Quantity: 5, RequestKey: "seats-5"}
	q, err := s.c.PreviewChange(s.ctx, s.merchant, ref, more)
	if err != nil || q.Direction != workflows.ChangeUpgrade || q.Effective != workflows.EffectiveNow || q.Total <= 0 || q.ToQuantity != 5 {
		t.Fatalf("preview: %v %+v", err, q)
	}
	more.ProrationDate = &q.ProrationDate
	res, err := s.c.ChangePlan(s.ctx, s.merchant, ref, more)
	if err != nil || res.Change == nil || res.Change.Total != q.Total || res.Purchase.Quantity != 5 || res.Purchase.Plan.Ref != team.Ref {
		t.Fatalf("5 seats: %v %+v (preview %d)", err, res, q.Total)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 2 || len(failed) != 0 || ok[1].IdempotencyKey != ref+"/change-1/charge" || ok[1].Amount != q.Total {
		t.Fatalf("ledger: %+v %+v", ok, failed)
	}
	eventually(t, "the projection with 5 seats", func() bool { return s.projection(ref).Quantity == 5 })

	fewer, err := s.c.ChangePlan(s.ctx, s.merchant, ref, starter.ChangePlanRequest{Quantity: 2, RequestKey: "seats-2"})
	if err != nil || fewer.Scheduled == nil || fewer.Scheduled.Quantity != 2 || fewer.Purchase.Quantity != 5 {
		t.Fatalf("2 seats: %v %+v", err, fewer)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Quantity != 2 || st.Period != 2 || st.ScheduledChange != nil {
		t.Fatalf("at the boundary: %d seats, period %d", st.Quantity, st.Period)
	}
	ok, _ = s.ledger(ref)
	if len(ok) != 3 || ok[2].IdempotencyKey != ref+"/period-2/charge" || ok[2].Amount != 2000 {
		t.Fatalf("renewal of 2 seats: %+v", ok)
	}
	recordHistory(s, ref, "seats-changed")
}
