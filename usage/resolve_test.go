package usage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// The resolutions kept in memory must never outlive what they were read from: after each
// change below the very next event and limit check see it, while unchanged calls stay on the
// fast path.
func TestUsageCacheFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, pln := usageCatalog(t, st)
	record := func(key, customer, action string, units int64) usage.Recorded {
		t.Helper()
		e := event(customer, prd.Ref, key, units)
		e.ActionType = action
		got, err := u.RecordMany(ctx, m, []usage.Event{e})
		if err != nil {
			t.Fatalf("record %s: %v", key, err)
		}
		return got[0]
	}
	limits := func() usage.LimitState {
		t.Helper()
		ls, err := u.LimitState(ctx, m, "user_123", prd.Ref, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	fastCalls := func(fn func()) uint64 {
		f0, _ := u.Paths()
		fn()
		f1, _ := u.Paths()
		return f1 - f0
	}

	// warm: the first call resolves, the next ones are fast
	record("w1", "user_123", "api_call", 1)
	if n := fastCalls(func() { record("w2", "user_123", "api_call", 1); limits() }); n != 2 {
		t.Fatalf("warm calls on the fast path: %d of 2", n)
	}
	if ls := limits(); ls.Used != 2 || ls.Meter != "requests" || ls.PurchaseRef != "" {
		t.Fatalf("free tier: %+v", ls)
	}

	// a custom meter created now is what a matching actionType counts on, at once
	if r := record("m1", "user_123", "gpu_seconds", 5); r.Meter != "requests" {
		t.Fatalf("before the meter exists: %+v", r)
	}
	if _, err := st.CreateMeter(ctx, domain.Meter{MerchantRef: m, Name: "gpu_seconds"}); err != nil {
		t.Fatal(err)
	}
	if r := record("m2", "user_123", "gpu_seconds", 5); r.Meter != "gpu_seconds" {
		t.Fatalf("after the meter exists: %+v", r)
	}

	// the plan's meter changes: plain events follow it
	meter := "api_calls"
	if _, err := st.UpdatePlan(ctx, m, pln.Ref, store.PlanPatch{Meter: &meter}); err != nil {
		t.Fatal(err)
	}
	if r := record("p1", "user_123", "api_call", 1); r.Meter != "api_calls" {
		t.Fatalf("after the plan's meter changed: %+v", r)
	}

	// a purchase starts: events count in its period, limits show it
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	end := start.AddDate(0, 1, 0)
	pur := domain.Purchase{Ref: domain.NewRef(domain.PrefixPurchase), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref,
		PlanRef: pln.Ref, Status: domain.PurchaseActive, PlanType: pln.Type, Currency: "USD", CurrentPeriodStart: &start,
		CurrentPeriodEnd: &end, Seq: 1}
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	if r := record("b1", c.Ref, "api_call", 3); !r.PeriodStart.Equal(start) {
		t.Fatalf("after the purchase: period %v, want %v", r.PeriodStart, start)
	}
	if ls := limits(); ls.PurchaseRef != pur.Ref || !ls.PeriodStart.Equal(start) || ls.Used != 3 {
		t.Fatalf("limits after the purchase: %+v", ls)
	}

	// the purchase renews: the next event counts in the new period
	next, nextEnd := end, end.AddDate(0, 1, 0)
	pur.CurrentPeriodStart, pur.CurrentPeriodEnd, pur.Seq = &next, &nextEnd, 2
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	e := event(c.Ref, prd.Ref, "r1", 1)
	e.OccurredAt = next.Add(time.Minute)
	if got, err := u.RecordMany(ctx, m, []usage.Event{e}); err != nil || !got[0].PeriodStart.Equal(next) {
		t.Fatalf("after the renewal: %+v %v", got, err)
	}

	// the customer's externalRef changes: the old one is unknown at once, the new one works
	newRef := "user_456"
	if _, err := st.UpdateCustomer(ctx, m, c.Ref, store.CustomerPatch{ExternalRef: &newRef}); err != nil {
		t.Fatal(err)
	}
	_, err := u.RecordMany(ctx, m, []usage.Event{event("user_123", prd.Ref, "x1", 1)})
	if de := domain.AsError(err); de == nil || de.Code != domain.CodeNotFound || de.Field != "customerRef" {
		t.Fatalf("old externalRef after the change: %v", err)
	}
	if _, err := u.LimitState(ctx, m, "user_123", prd.Ref, "", ""); !errors.As(err, new(*domain.Error)) {
		t.Fatalf("limits on the old externalRef: %v", err)
	}
	if r := record("x2", "user_456", "api_call", 1); r.CustomerRef != c.Ref {
		t.Fatalf("new externalRef: %+v", r)
	}

	// a batch on warm facts is fast too, and a batch after a change is not fooled
	batch := []usage.Event{event(c.Ref, prd.Ref, "bb1", 1), event("user_456", prd.Ref, "bb2", 1)}
	if n := fastCalls(func() {
		if _, err := u.RecordMany(ctx, m, batch); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatal("a batch on warm facts took the full path")
	}
	if err := st.DeleteCustomer(ctx, m, c.Ref); err != nil {
		t.Fatal(err)
	}
	batch = []usage.Event{event(c.Ref, prd.Ref, "bb3", 1), event("user_456", prd.Ref, "bb4", 1)}
	if _, err := u.RecordMany(ctx, m, batch); domain.AsError(err) == nil || domain.AsError(err).Code != domain.CodeNotFound {
		t.Fatalf("a batch for a deleted customer: %v", err)
	}
}
