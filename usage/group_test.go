package usage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/usage"
)

// Single events sent at the same moment are written in groups, and each caller still gets the
// answer it would have had alone: many callers, some sending the same key at once, some for a
// customer that does not exist. Every key is stored once, every caller of a key sees the same
// reference (exactly one of them as the original), the unknown customer is refused, and the
// counters add up.
func TestConcurrentSingleEventsAnswerAsAlone(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, _, prd, _ := usageCatalog(t, st)
	const customers, callers, perCaller = 8, 32, 40
	refs := newCustomers(t, st, m, "g", customers)
	// warm the resolutions, so every caller is eligible for a group
	for i, r := range refs {
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(r, prd.Ref, fmt.Sprint("warm", i), 1)}); err != nil {
			t.Fatal(err)
		}
	}

	type answer struct {
		key string
		rec usage.Recorded
		err error
	}
	answers := make(chan answer, callers*perCaller)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perCaller {
				// every key is sent by two callers (c and c^1) at about the same time
				key := fmt.Sprintf("k%d-%d", c/2, i)
				customer := refs[(c/2+i)%customers]
				if i%13 == 0 && c%2 == 0 {
					customer, key = "nobody", fmt.Sprintf("x%d-%d", c, i)
				}
				got, err := u.RecordMany(ctx, m, []usage.Event{event(customer, prd.Ref, key, 2)})
				a := answer{key: key, err: err}
				if err == nil {
					a.rec = got[0]
				}
				answers <- a
			}
		}()
	}
	wg.Wait()
	close(answers)

	refOf := map[string]string{}
	originals := map[string]int{}
	stored := 0
	for a := range answers {
		if a.key[0] == 'x' {
			if de := domain.AsError(a.err); de == nil || de.Code != domain.CodeNotFound {
				t.Fatalf("unknown customer %s: %v", a.key, a.err)
			}
			continue
		}
		if a.err != nil {
			t.Fatalf("%s: %v", a.key, a.err)
		}
		if r, seen := refOf[a.key]; seen && r != a.rec.Ref {
			t.Fatalf("%s answered %s and %s", a.key, r, a.rec.Ref)
		}
		refOf[a.key] = a.rec.Ref
		if !a.rec.Duplicate {
			originals[a.key]++
			stored++
		}
	}
	for k, n := range originals {
		if n != 1 {
			t.Fatalf("%s answered as the original %d times", k, n)
		}
	}
	if len(originals) != len(refOf) {
		t.Fatalf("%d keys have no original answer", len(refOf)-len(originals))
	}
	var rows, units int64
	if err := st.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(units), 0) FROM usage_events WHERE merchant_id = $1 AND idempotency_key LIKE 'k%'`, m).
		Scan(&rows, &units); err != nil {
		t.Fatal(err)
	}
	if rows != int64(stored) || units != 2*rows {
		t.Fatalf("stored %d events (%d units), answered %d originals", rows, units, stored)
	}
	var counted int64
	if err := st.Pool.QueryRow(ctx, `SELECT sum(units) FROM usage_counters WHERE merchant_id = $1`, m).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != units+int64(customers) { // + the warm-up events
		t.Fatalf("counters hold %d units, events %d", counted, units+int64(customers))
	}
	if u.GroupedEvents() == 0 {
		t.Fatal("no event was written in a group")
	}
	t.Logf("%d of %d stored events were written in groups", u.GroupedEvents(), stored)
}

// Limit checks sent at the same moment are read in groups, and each gets the state it would
// have read alone: its own customer's counter, and a purchase that starts just before the
// checks is seen by every one of them.
func TestConcurrentLimitChecksAnswerAsAlone(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, _, prd, pln := usageCatalog(t, st)
	const customers, callers, perCaller = 6, 32, 30
	refs := newCustomers(t, st, m, "l", customers)
	for i, ref := range refs {
		// customer i has used 10+i units
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(ref, prd.Ref, fmt.Sprint("u", i), int64(10+i))}); err != nil {
			t.Fatal(err)
		}
		if _, err := u.LimitState(ctx, m, ref, prd.Ref, "", ""); err != nil { // warm the facts
			t.Fatal(err)
		}
	}
	// customer 0 buys the product now: its checks move to the purchase's period, where nothing
	// is used yet
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	end := start.AddDate(0, 1, 0)
	pur := domain.Purchase{Ref: domain.NewRef(domain.PrefixPurchase), MerchantRef: m, CustomerRef: refs[0], ProductRef: prd.Ref,
		PlanRef: pln.Ref, Status: domain.PurchaseActive, PlanType: pln.Type, Currency: "USD", CurrentPeriodStart: &start,
		CurrentPeriodEnd: &end, Seq: 1}
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}

	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perCaller {
				n := (c + i) % customers
				ls, err := u.LimitState(ctx, m, refs[n], prd.Ref, "", "")
				switch {
				case err != nil:
					errs <- err
				case ls.CustomerRef != refs[n]:
					errs <- fmt.Errorf("check of %s answered for %s", refs[n], ls.CustomerRef)
				case n == 0 && (ls.PurchaseRef != pur.Ref || !ls.PeriodStart.Equal(start) || ls.Used != 0):
					errs <- fmt.Errorf("the new purchase is not seen: %+v", ls)
				case n > 0 && ls.Used != int64(10+n):
					errs <- fmt.Errorf("customer %d: used %d, want %d", n, ls.Used, 10+n)
				default:
					continue
				}
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if u.GroupedReads() == 0 {
		t.Fatal("no check was read in a group")
	}
	t.Logf("%d of %d checks were read in groups", u.GroupedReads(), callers*perCaller)
}

// A customer named in one group by its cus_ reference and by its externalRef may have facts in
// memory read at two versions, one of them stale; the group must check both. Here the cus_
// facts predate a purchase and the externalRef facts follow it: the group may not count the
// cus_ event in the month instead of the purchase's period.
func TestGroupChecksEveryVersionOfACustomer(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, pln := usageCatalog(t, st)
	record := func(customer, key string) {
		t.Helper()
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(customer, prd.Ref, key, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	record(c.Ref, "w1")      // facts by cus_ reference, before the purchase
	record("user_123", "w2") // facts by externalRef, before the purchase
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	end := start.AddDate(0, 1, 0)
	if _, err := st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef(domain.PrefixPurchase), MerchantRef: m,
		CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref, Status: domain.PurchaseActive, PlanType: pln.Type,
		Currency: "USD", CurrentPeriodStart: &start, CurrentPeriodEnd: &end, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	record("user_123", "a1") // finds its facts stale and forgets them
	record("user_123", "a2") // reads them again, after the purchase

	events := []usage.Event{event("user_123", prd.Ref, "g1", 1), event(c.Ref, prd.Ref, "g2", 1)}
	ids := []string{domain.NewRef(domain.PrefixUsage), domain.NewRef(domain.PrefixUsage)}
	out, _, ok, err := u.RecordGroup(ctx, m, events, ids)
	if err != nil {
		t.Fatal(err)
	}
	if ok && !out[1].PeriodStart.Equal(start) {
		t.Fatalf("the cus_ event counted in %v on stale facts, not in the purchase's period %v", out[1].PeriodStart, start)
	}
}
