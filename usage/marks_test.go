package usage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// markEvents answers the usage.threshold_reached and usage.limit_reached events of merchant in
// mode, oldest first.
func markEvents(t *testing.T, st *store.Store, merchant, mode string) []domain.Event {
	t.Helper()
	var out []domain.Event
	for _, typ := range []string{domain.EventUsageThresholdReached, domain.EventUsageLimitReached} {
		evs, _, err := st.ListEvents(context.Background(), merchant, store.EventFilter{Mode: mode, Type: typ}, store.Page{Page: 1, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	return out
}

// markOf decodes an event's object.
func markOf(t *testing.T, e domain.Event) usage.Mark {
	t.Helper()
	var m usage.Mark
	if err := json.Unmarshal(e.Object, &m); err != nil {
		t.Fatalf("%s: %v", e.Object, err)
	}
	return m
}

// Every write path sends usage.threshold_reached when a counter reaches 80% of its limit and
// usage.limit_reached when it reaches the limit, once each, in the mode of the key that wrote,
// with the customer, product, meter, period, limit, mark and units used.
func TestUsageMarksOnEveryWritePath(t *testing.T) {
	ctx := domain.WithMode(context.Background(), domain.ModeLive)
	// each path records 30, 50, 1, 30, 10 units: 80 reaches the threshold, 111 passes the limit
	steps := []int64{30, 50, 1, 30, 10}
	paths := map[string]func(u *usage.Engine, m string, e usage.Event) error{
		"single": func(u *usage.Engine, m string, e usage.Event) error {
			_, err := u.RecordMany(ctx, m, []usage.Event{e})
			return err
		},
		"batch": func(u *usage.Engine, m string, e usage.Event) error {
			other := e
			other.IdempotencyKey, other.Units = e.IdempotencyKey+"-0", 0
			_, err := u.RecordMany(ctx, m, []usage.Event{e, other})
			return err
		},
		"group": func(u *usage.Engine, m string, e usage.Event) error {
			other := e
			other.IdempotencyKey, other.Units = e.IdempotencyKey+"-0", 0
			_, done, ok, err := u.RecordGroup(ctx, m, []usage.Event{e, other},
				[]string{domain.NewTimedRef(domain.PrefixUsage, time.Now()), domain.NewTimedRef(domain.PrefixUsage, time.Now())})
			if err == nil && (!ok || !done[0]) {
				err = fmt.Errorf("the group stored nothing")
			}
			return err
		},
		"consume": func(u *usage.Engine, m string, e usage.Event) error {
			ls, err := u.LimitState(ctx, m, e.CustomerRef, e.ProductRef, "", "")
			if err != nil {
				return err
			}
			// consume refuses past the limit: it takes what the limit admits, the rest is recorded
			rest := e
			rest.IdempotencyKey, rest.Units = e.IdempotencyKey+"-rest", max(0, ls.Used+e.Units-*ls.EffectiveLimit())
			if e.Units -= rest.Units; e.Units > 0 {
				if _, _, err = u.Consume(ctx, m, ls, e, ls.EffectiveLimit()); err != nil || rest.Units == 0 {
					return err
				}
			}
			_, err = u.RecordMany(ctx, m, []usage.Event{rest})
			return err
		},
	}
	for name, write := range paths {
		for _, full := range []bool{false, true} {
			if full && (name == "group" || name == "consume") {
				continue // these have no full statement of their own
			}
			t.Run(fmt.Sprintf("%s full=%v", name, full), func(t *testing.T) {
				st := testenv.Postgres(t)
				u := usage.New(st.Pool)
				if full {
					u.FullStatementsOnly()
				}
				m, c, prd, _ := usageCatalog(t, st)
				// warm the facts in memory, as in production
				if _, err := u.LimitState(ctx, m, c.Ref, prd.Ref, "", ""); err != nil {
					t.Fatal(err)
				}
				var got []int
				for i, n := range steps {
					if err := write(u, m, event(c.Ref, prd.Ref, fmt.Sprint("k", i), n)); err != nil {
						t.Fatal(err)
					}
					got = append(got, len(markEvents(t, st, m, domain.ModeLive)))
				}
				if want := []int{0, 1, 1, 2, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("events after each step: %v, want %v", got, want)
				}
				evs := markEvents(t, st, m, domain.ModeLive)
				period := usage.MonthStart(time.Now())
				want := []usage.Mark{
					{CustomerRef: c.Ref, ProductRef: prd.Ref, Meter: "requests", PeriodStart: period, Limit: 100, Threshold: 80, Used: 80},
					{CustomerRef: c.Ref, ProductRef: prd.Ref, Meter: "requests", PeriodStart: period, Limit: 100, Threshold: 100, Used: 111},
				}
				if name == "consume" {
					want[1].Used = 100
				}
				for i, e := range evs {
					if got := markOf(t, e); got != want[i] || e.ObjectType != "usage" || e.ObjectRef != c.Ref || e.Mode != domain.ModeLive ||
						!domain.HasPrefix(e.Ref, domain.PrefixEvent) || len(e.Ref) != len(domain.NewTimedRef(domain.PrefixEvent, time.Now())) {
						t.Fatalf("event %d: %+v %+v, want %+v", i, e, got, want[i])
					}
				}
				if evs[0].Type != domain.EventUsageThresholdReached || evs[1].Type != domain.EventUsageLimitReached {
					t.Fatalf("types: %s, %s", evs[0].Type, evs[1].Type)
				}
				if sandbox := markEvents(t, st, m, domain.ModeSandbox); len(sandbox) != 0 {
					t.Fatalf("events in the other mode: %+v", sandbox)
				}
			})
		}
	}
}

// One write that passes both marks sends both events; a retried event, or one that does not
// count (outcome error), sends none.
func TestUsageMarksJumpAndRetry(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)
	if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "big", 150)}); err != nil {
		t.Fatal(err)
	}
	failed := event(c.Ref, prd.Ref, "failed", 1_000)
	failed.Outcome = "error"
	for range 2 {
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, "big", 150), failed}); err != nil {
			t.Fatal(err)
		}
	}
	evs := markEvents(t, st, m, domain.ModeSandbox)
	if len(evs) != 2 || markOf(t, evs[0]).Used != 150 || markOf(t, evs[1]).Used != 150 {
		t.Fatalf("events: %+v", evs)
	}
}

// Writers that cross the marks at once, on every path together, send each event exactly once
// per customer.
func TestUsageMarksOnceUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, _, prd, _ := usageCatalog(t, st)
	customers := newCustomers(t, st, m, "race", 8)
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		// 8 customers × (12 single writers of 3 units + 2 batches of 6 × 3 units): 72 units a
		// round per customer, 216 over three rounds, so each crosses 80 and 100 once. One write
		// adds at most 36 units to a counter (a group of its 12 single events).
		for w := range 12 {
			for _, cus := range customers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := u.RecordMany(ctx, m, []usage.Event{event(cus, prd.Ref, fmt.Sprint(cus, round, w), 3)})
					errs <- err
				}()
			}
		}
		for b := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var batch []usage.Event
				for _, cus := range customers {
					for i := range 6 {
						batch = append(batch, event(cus, prd.Ref, fmt.Sprint(cus, round, "b", b, i), 3))
					}
				}
				_, err := u.RecordMany(ctx, m, batch)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	count := map[string]int{}
	for _, e := range markEvents(t, st, m, domain.ModeSandbox) {
		mk := markOf(t, e)
		count[e.Type+" "+mk.CustomerRef]++
		if mk.Used < mk.Threshold || mk.Used-36 >= mk.Threshold {
			t.Fatalf("%s at %d units, mark %d", e.Type, mk.Used, mk.Threshold)
		}
	}
	for _, cus := range customers {
		for _, typ := range []string{domain.EventUsageThresholdReached, domain.EventUsageLimitReached} {
			if count[typ+" "+cus] != 1 {
				t.Fatalf("%s for %s: %d events (all: %v)", typ, cus, count[typ+" "+cus], count)
			}
		}
	}
}

// A counter no limit applies to sends no mark, however far it goes, on the single and batch
// paths, fast and full.
func TestUsageMarksNoneWithoutALimit(t *testing.T) {
	ctx := context.Background()
	for _, full := range []bool{false, true} {
		st := testenv.Postgres(t)
		u := usage.New(st.Pool)
		if full {
			u.FullStatementsOnly()
		}
		m, _ := testenv.Merchant(t, st, "M")
		c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: "bob@startup.io"})
		if err != nil {
			t.Fatal(err)
		}
		prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "support-bot"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "Free", Type: domain.PlanFree,
			Meter: "requests", IsDefault: true}); err != nil {
			t.Fatal(err)
		}
		if ls, err := u.LimitState(ctx, m, c.Ref, prd.Ref, "", ""); err != nil || ls.EffectiveLimit() != nil {
			t.Fatalf("full=%v: the counter has a limit: %+v %v", full, ls, err)
		}
		for i := range 3 {
			if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, fmt.Sprint("s", i), 1_000)}); err != nil {
				t.Fatal(err)
			}
			if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, fmt.Sprint("b", i), 1_000),
				event(c.Ref, prd.Ref, fmt.Sprint("c", i), 1_000)}); err != nil {
				t.Fatal(err)
			}
		}
		if ls, err := u.LimitState(ctx, m, c.Ref, prd.Ref, "", ""); err != nil || ls.Used != 9_000 {
			t.Fatalf("full=%v: used %+v %v", full, ls, err)
		}
		if evs := markEvents(t, st, m, domain.ModeSandbox); len(evs) != 0 {
			t.Fatalf("full=%v: marks without a limit: %+v", full, evs)
		}
	}
}
