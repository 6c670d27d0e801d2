package starter_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// A customer in Tokyo: every renewal the test clock plays ends where the purchase's anchor says
// (its day of the month on Tokyo's calendar, clamped, never drifting after a short month), in
// the workflow's state and in the Postgres projection.
func TestRenewalsFollowTheAnchorOnTheCustomersCalendar(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1500, BillingCycle: domain.CycleMonthly})
	cus, err := s.st.CreateCustomer(s.ctx, domain.Customer{MerchantRef: s.merchant, Email: "t@example.com", Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	s.setCard(cus.Ref, "4242424242424242")
	st := s.start(cus, plan)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if st.TimeZone != "Asia/Tokyo" || st.Anchor.IsZero() {
		t.Fatalf("activated: zone %q anchor %v", st.TimeZone, st.Anchor)
	}
	ref := st.PurchaseRef
	for n := 1; n <= 4; n++ {
		want := plan.PeriodBoundary(st.Anchor, n, tokyo)
		local, anchor := want.In(tokyo), st.Anchor.In(tokyo)
		lastDay := time.Date(local.Year(), local.Month()+1, 0, 0, 0, 0, 0, tokyo).Day()
		if !st.PeriodEnd.Equal(want) || local.Day() != min(anchor.Day(), lastDay) || local.Hour() != anchor.Hour() {
			t.Fatalf("period %d ends %v (Tokyo %v), want %v", n, st.PeriodEnd, st.PeriodEnd.In(tokyo), local)
		}
		eventually(t, "the projection of the period", func() bool {
			p := s.projection(ref)
			return p.Period == n && p.CurrentPeriodEnd != nil && p.CurrentPeriodEnd.Equal(want)
		})
		if n < 4 {
			st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
		}
	}
	if ok, _ := s.ledger(ref); len(ok) != 4 {
		t.Fatalf("ledger: %d charges, want 4", len(ok))
	}
	recordHistory(s, ref, "anchored-periods")
}
