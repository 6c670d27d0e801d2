package usage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// usageCatalog is a merchant with a customer (externalRef user_123), a product and a default
// plan of 100 free units limited to 100 on the "requests" meter.
func usageCatalog(t *testing.T, st *store.Store) (merchant string, c domain.Customer, prd domain.Product, pln domain.Plan) {
	t.Helper()
	ctx := context.Background()
	merchant, _ = testenv.Merchant(t, st, "M")
	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "bob@startup.io", ExternalRef: "user_123"})
	if err != nil {
		t.Fatal(err)
	}
	prd, err = st.CreateProduct(ctx, domain.Product{MerchantRef: merchant, Name: "support-bot"})
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(100)
	pln, err = st.CreatePlan(ctx, domain.Plan{MerchantRef: merchant, ProductRef: prd.Ref, Name: "Free", Type: domain.PlanFree,
		FreeUnits: 100, Limit: &limit, Meter: "requests"})
	if err != nil {
		t.Fatal(err)
	}
	return merchant, c, prd, pln
}

func event(customer, product, key string, units int64) usage.Event {
	return usage.Event{CustomerRef: customer, ProductRef: product, ActionType: "api_call", Units: units,
		Outcome: usage.OutcomeSuccess, IdempotencyKey: key, OccurredAt: time.Now()}
}

// newCustomers creates n customers of merchant, with externalRefs prefix0, prefix1, …, and
// answers their cus_ references.
func newCustomers(t testing.TB, st *store.Store, merchant, prefix string, n int) []string {
	t.Helper()
	refs := make([]string, n)
	for i := range refs {
		c, err := st.CreateCustomer(context.Background(), domain.Customer{MerchantRef: merchant, ExternalRef: fmt.Sprint(prefix, i)})
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = c.Ref
	}
	return refs
}

func TestRecordUsageCountsOnceAndMapsMeters(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)

	// by cus_ and by externalRef, api_call maps to the plan's meter
	got, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "k1", 80), event("user_123", prd.Ref, "k2", 7)})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Meter != "requests" || got[1].CustomerRef != c.Ref || got[0].Duplicate || got[0].Ref == got[1].Ref {
		t.Fatalf("recorded: %+v", got)
	}
	// a retry of k1 (and a repeat inside one batch) counts once and answers the original
	again, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "k1", 80), event(c.Ref, prd.Ref, "k3", 0), event(c.Ref, prd.Ref, "k3", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !again[0].Duplicate || again[0].Ref != got[0].Ref || again[1].Duplicate || !again[2].Duplicate || again[2].Ref != again[1].Ref {
		t.Fatalf("retry: %+v", again)
	}
	ls, err := u.LimitState(ctx, m, "user_123", prd.Ref, "", "")
	if err != nil {
		t.Fatal(err)
	}
	v := ls.Evaluate(1)
	if ls.Used != 87 || ls.Meter != "requests" || !v.WithinLimits || *v.Limit != 100 || *v.Remaining != 13 {
		t.Fatalf("state %+v verdict %+v", ls, v)
	}
	n, err := st.MeteredUnits(ctx, m, c.Ref, prd.Ref, "requests", usage.MonthStart(time.Now()))
	if err != nil || n != 87 {
		t.Fatalf("UsageForPeriod = %d, %v", n, err)
	}

	// actionType naming a meter, tool meters, failures stored but not counted
	tok := event(c.Ref, prd.Ref, "k4", 500)
	tok.ActionType = "tokens"
	tool := event(c.Ref, prd.Ref, "k5", 1)
	tool.ActionType = "tool:search"
	failed := event(c.Ref, prd.Ref, "k6", 5)
	failed.Outcome = "error"
	got, err = u.RecordMany(ctx, m, []usage.Event{tok, tool, failed})
	if err != nil || got[0].Meter != "tokens" || got[1].Meter != "tool:search" || got[2].Meter != "requests" {
		t.Fatalf("meters: %v %+v", err, got)
	}
	if n, _ := st.MeteredUnits(ctx, m, c.Ref, prd.Ref, "requests", usage.MonthStart(time.Now())); n != 87 {
		t.Fatalf("a failed call counted: %d", n)
	}

	// an unknown customer or meter refuses the whole batch and names the event
	bad := event(c.Ref, prd.Ref, "k7", 1)
	bad.Meter = "nope"
	_, err = u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "k8", 1), bad})
	if ee, ok := err.(*usage.EventError); !ok || ee.Index != 1 || ee.Err.Field != "meterName" {
		t.Fatalf("bad meter: %v", err)
	}
	_, err = u.RecordMany(ctx, m, []usage.Event{event("cus_nobody", prd.Ref, "k9", 1)})
	if domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("unknown customer: %v", err)
	}
	if n, _ := st.MeteredUnits(ctx, m, c.Ref, prd.Ref, "requests", usage.MonthStart(time.Now())); n != 87 {
		t.Fatalf("a refused batch counted: %d", n)
	}
	// another merchant cannot record on this customer
	other, _ := testenv.Merchant(t, st, "Other")
	if _, err := u.RecordMany(ctx, other, []usage.Event{event(c.Ref, "", "k1", 1)}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("cross-merchant: %v", err)
	}
}

func TestUsageCountsInThePurchasePeriod(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)
	limit := int64(1000)
	paid, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "PAYG", Type: domain.PlanUsageBased,
		BillingCycle: domain.CycleMonthly, FreeUnits: 10, UnitPrice: 2, Limit: &limit, Meter: "api_calls"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Microsecond)
	end := start.AddDate(0, 1, 0)
	if _, err := st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref,
		ProductRef: prd.Ref, PlanRef: paid.Ref, Status: domain.PurchaseActive, Currency: "USD",
		CurrentPeriodStart: &start, CurrentPeriodEnd: &end, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	old := event(c.Ref, prd.Ref, "before", 3)
	old.OccurredAt = start.Add(-time.Hour)
	got, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "now", 25), old})
	if err != nil {
		t.Fatal(err)
	}
	// a late event (stamped before the period) counts in the current period: it is billed once, there
	if !got[0].PeriodStart.Equal(start) || got[0].Meter != "api_calls" || !got[1].PeriodStart.Equal(start) {
		t.Fatalf("periods: %+v", got)
	}
	ls, err := u.LimitState(ctx, m, c.Ref, prd.Ref, "", "")
	if err != nil {
		t.Fatal(err)
	}
	v := ls.Evaluate(1)
	if ls.Used != 28 || !ls.PeriodStart.Equal(start) || !ls.PeriodEnd.Equal(end) || *v.Limit != 1000 || !v.WithinLimits {
		t.Fatalf("state %+v verdict %+v", ls, v)
	}
}

func TestConsumeNeverPassesTheLimit(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)
	if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "base", 90)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, refused := 0, 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ls, err := u.LimitState(ctx, m, c.Ref, prd.Ref, "", "")
			if err != nil {
				t.Error(err)
				return
			}
			_, _, err = u.Consume(ctx, m, ls, event(c.Ref, prd.Ref, fmt.Sprint("c", i), 1), ls.EffectiveLimit())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				admitted++
			case err == usage.ErrLimitExceeded:
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if admitted != 10 || refused != 40 {
		t.Fatalf("admitted %d, refused %d", admitted, refused)
	}
	var events int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE merchant_id = $1`, m).Scan(&events); err != nil || events != 11 {
		t.Fatalf("events stored: %d %v", events, err)
	}
	ls, _ := u.LimitState(ctx, m, c.Ref, prd.Ref, "", "")
	if ls.Used != 100 {
		t.Fatalf("used %d", ls.Used)
	}
	// a repeated key answers the original and consumes nothing, even at the limit
	rec, _, err := u.Consume(ctx, m, ls, event(c.Ref, prd.Ref, "c0", 1), ls.EffectiveLimit())
	if err != nil && err != usage.ErrLimitExceeded {
		t.Fatal(err)
	}
	_ = rec
}

func TestLimitVerdicts(t *testing.T) {
	l := func(n int64) *int64 { return &n }
	cases := []struct {
		name   string
		st     usage.LimitState
		within bool
		limit  *int64
		reason string
	}{
		{"free tier of the default plan", usage.LimitState{PlanRef: "pln", PlanType: domain.PlanRecurring, FreeUnits: 100, Meter: "m", PlanMeter: "m", Used: 99}, true, l(100), ""},
		{"free tier used up", usage.LimitState{PlanRef: "pln", PlanType: domain.PlanRecurring, FreeUnits: 100, Meter: "m", PlanMeter: "m", Used: 100}, false, l(100), "limit_reached"},
		{"no allowance", usage.LimitState{PlanRef: "pln", PlanType: domain.PlanRecurring, Meter: "m", PlanMeter: "m"}, false, l(0), "no_purchase"},
		{"no plan at all", usage.LimitState{}, false, l(0), "no_plan"},
		{"free plan without limits", usage.LimitState{PlanRef: "pln", PlanType: domain.PlanFree, Meter: "m", PlanMeter: "m", Used: 1e6}, true, nil, ""},
		{"PAYG purchase", usage.LimitState{PurchaseRef: "pur", PurchaseStatus: domain.PurchaseActive, PlanRef: "pln", PlanType: domain.PlanUsageBased, FreeUnits: 10, Meter: "m", PlanMeter: "m", Used: 1e6}, true, nil, ""},
		{"hard limit", usage.LimitState{PurchaseRef: "pur", PurchaseStatus: domain.PurchaseActive, PlanRef: "pln", PlanType: domain.PlanHybrid, Limit: l(50), Meter: "m", PlanMeter: "m", Used: 50}, false, l(50), "limit_reached"},
		{"other meter is not limited", usage.LimitState{PurchaseRef: "pur", PurchaseStatus: domain.PurchaseActive, PlanRef: "pln", PlanType: domain.PlanHybrid, Limit: l(50), Meter: "tokens", PlanMeter: "m", Used: 50}, true, nil, ""},
		{"suspended", usage.LimitState{PurchaseRef: "pur", PurchaseStatus: domain.PurchaseSuspended, PlanRef: "pln", PlanType: domain.PlanRecurring, Meter: "m", PlanMeter: "m"}, false, l(0), "purchase_suspended"},
	}
	for _, c := range cases {
		v := c.st.Evaluate(1)
		if v.WithinLimits != c.within || v.Reason != c.reason || (v.Limit == nil) != (c.limit == nil) || (v.Limit != nil && *v.Limit != *c.limit) {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
}

// A renewal bills what its purchase's counters hold and marks it billed: units recorded after
// the bill (while it ran, or late) go with the next one, and a retried bill answers the same.
func TestBillUsageBillsEveryUnitOnce(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)
	paid, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "PAYG", Type: domain.PlanUsageBased,
		BillingCycle: domain.CycleMonthly, UnitPrice: 2, Meter: "api_calls"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	pur := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: paid.Ref,
		Status: domain.PurchaseActive, Currency: "USD", CurrentPeriodStart: &start, Seq: 1}
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	record := func(key string, units int64) {
		t.Helper()
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, key, units)}); err != nil {
			t.Fatal(err)
		}
	}
	bill := func(period time.Time) int64 {
		t.Helper()
		n, err := usage.BillPeriod(ctx, st.Pool, usage.Bill{MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, Meter: "api_calls",
			Since: start, PeriodStart: period})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	record("a", 5)
	if n := bill(start); n != 5 {
		t.Fatalf("first bill: %d", n)
	}
	record("b", 7) // recorded after the bill, still on the old period's counter (the renewal in flight)
	if n := bill(start); n != 5 {
		t.Fatalf("the same bill asked again: %d", n)
	}
	next := start.AddDate(0, 1, 0)
	pur.CurrentPeriodStart, pur.Seq = &next, 2
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	record("c", 11)
	if n := bill(next); n != 7+11 {
		t.Fatalf("second bill: %d, want the 7 recorded during the first bill and the 11 of its own period", n)
	}
}
