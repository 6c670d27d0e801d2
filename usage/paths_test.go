package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// pathWorld is one database of the differential test, with its references by name.
type pathWorld struct {
	st       *store.Store
	u        *usage.Engine
	merchant string
	cus      map[string]string // externalRef → cus_
	name     map[string]string // cus_ → externalRef
	prd, pln map[string]string // A, B → references
	pur      map[string]domain.Purchase
}

// The fast path must answer exactly as the full statements: the same events, limits and
// refusals, through catalog changes, from two databases fed the same calls.
func TestUsageFastPathMatchesFullStatements(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	start := now.AddDate(0, 0, -10)
	fast, full := newPathWorld(t, now, start), newPathWorld(t, now, start)
	full.u.FullStatementsOnly()

	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for step := range 400 {
		switch step {
		case 100:
			for _, w := range []*pathWorld{fast, full} {
				if _, err := w.st.CreateMeter(ctx, domain.Meter{MerchantRef: w.merchant, Name: "late_meter"}); err != nil {
					t.Fatal(err)
				}
			}
		case 200: // u0 renews: its period starts an hour ago
			for _, w := range []*pathWorld{fast, full} {
				p := w.pur["u0"]
				s, e := now.Add(-time.Hour), now.Add(-time.Hour).AddDate(0, 1, 0)
				p.CurrentPeriodStart, p.CurrentPeriodEnd, p.Seq = &s, &e, p.Seq+1
				if _, err := w.st.UpsertPurchase(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
		case 300: // u5 changes its externalRef, u6 is deleted, u1's purchase ends
			for _, w := range []*pathWorld{fast, full} {
				ref := "u5b"
				if _, err := w.st.UpdateCustomer(ctx, w.merchant, w.cus["u5"], store.CustomerPatch{ExternalRef: &ref}); err != nil {
					t.Fatal(err)
				}
				if err := w.st.DeleteCustomer(ctx, w.merchant, w.cus["u6"]); err != nil {
					t.Fatal(err)
				}
				p := w.pur["u1"]
				p.Status, p.Seq = domain.PurchaseExpired, p.Seq+1
				if _, err := w.st.UpsertPurchase(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
		}
		n := 1
		if rng.IntN(3) == 0 {
			n = 2 + rng.IntN(15)
		}
		type draw struct {
			customer, byID, product, meter, action, outcome, key string
			units                                                int64
			at                                                   time.Time
		}
		draws := make([]draw, n)
		for i := range draws {
			draws[i] = draw{customer: pick("u0", "u1", "u2", "u3", "u4", "u5", "u5b", "u6", "u7", "ghost"), byID: pick("", "id"),
				product: pick("A", "A", "B", ""), meter: pick("", "", "", "tokens", "tool:search", "gpu", "late_meter", "nope"),
				action: pick("api_call", "gpu", "tool:x", "tokens", "late_meter"), outcome: pick("success", "success", "error"),
				key: fmt.Sprint("k", rng.IntN(600)), units: int64(rng.IntN(6)), at: now.Add(-time.Duration(rng.IntN(40*24)) * time.Hour)}
			if rng.IntN(4) == 0 { // right at a period's edges: the first period's, the renewal's
				draws[i].at = []time.Time{start, start.Add(-time.Microsecond), start.Add(time.Minute), now.Add(-time.Hour),
					now.Add(-time.Hour - time.Microsecond)}[rng.IntN(5)]
			}
		}
		var answers [2]string
		for j, w := range []*pathWorld{fast, full} {
			events := make([]usage.Event, n)
			for i, d := range draws {
				c := d.customer
				if id, ok := w.cus[c]; ok && d.byID == "id" {
					c = id
				}
				events[i] = usage.Event{CustomerRef: c, ProductRef: w.prd[d.product], Meter: d.meter, ActionType: d.action,
					Units: d.units, Outcome: d.outcome, IdempotencyKey: d.key, OccurredAt: d.at}
			}
			got, err := w.u.RecordMany(ctx, w.merchant, events)
			answers[j] = w.normalise(got, err)
		}
		if answers[0] != answers[1] {
			t.Fatalf("step %d: the paths disagree\nfast: %s\nfull: %s", step, answers[0], answers[1])
		}
		if step%50 == 49 {
			compareLimits(t, step, fast, full)
		}
	}
	if f, _ := fast.u.Paths(); f == 0 {
		t.Fatal("the fast path was never taken")
	}
	// and the paths send the same usage marks (issue 15): the draws stay far below the limits,
	// so each customer then uses 45 units of each product alone and 60 in a batch
	for _, w := range []*pathWorld{fast, full} {
		for _, c := range []string{"u0", "u1", "u2", "u3", "u4", "u7"} {
			for _, p := range []string{"A", "B"} {
				e := usage.Event{CustomerRef: c, ProductRef: w.prd[p], ActionType: "api_call", Units: 45, Outcome: "success",
					IdempotencyKey: "mark-1-" + c + p, OccurredAt: now}
				if _, err := w.u.RecordMany(ctx, w.merchant, []usage.Event{e}); err != nil {
					t.Fatal(err)
				}
				e.Units, e.IdempotencyKey = 30, "mark-2-"+c+p
				f := e
				f.IdempotencyKey = "mark-3-" + c + p
				if _, err := w.u.RecordMany(ctx, w.merchant, []usage.Event{e, f}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if fm, fu := fast.marks(t), full.marks(t); fm != fu || fm == "" {
		t.Fatalf("the paths' usage events disagree\nfast: %s\nfull: %s", fm, fu)
	}
}

// marks lists the world's usage.threshold_reached and usage.limit_reached events with the
// customers and products named as in the draws, sorted.
func (w *pathWorld) marks(t *testing.T) string {
	var out []string
	for _, e := range markEvents(t, w.st, w.merchant, domain.ModeSandbox) {
		m := markOf(t, e)
		for name, ref := range w.prd {
			if ref == m.ProductRef {
				m.ProductRef = name
			}
		}
		m.CustomerRef = w.name[m.CustomerRef]
		out = append(out, fmt.Sprintf("%s %+v", e.Type, m))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func newPathWorld(t *testing.T, now, start time.Time) *pathWorld {
	t.Helper()
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	w := &pathWorld{st: st, u: u, cus: map[string]string{}, name: map[string]string{}, prd: map[string]string{"": ""},
		pln: map[string]string{}, pur: map[string]domain.Purchase{}}
	w.merchant, _ = testenv.Merchant(t, st, "M")
	limit := int64(100)
	for _, p := range []struct {
		name string
		plan domain.Plan
	}{
		{"A", domain.Plan{Name: "Free", Type: domain.PlanFree, FreeUnits: 100, Limit: &limit, Meter: "requests"}},
		{"B", domain.Plan{Name: "PAYG", Type: domain.PlanUsageBased, BillingCycle: domain.CycleMonthly, FreeUnits: 50, UnitPrice: 2}},
	} {
		prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: w.merchant, Name: p.name})
		if err != nil {
			t.Fatal(err)
		}
		p.plan.MerchantRef, p.plan.ProductRef = w.merchant, prd.Ref
		pln, err := st.CreatePlan(ctx, p.plan)
		if err != nil {
			t.Fatal(err)
		}
		w.prd[p.name], w.pln[p.name] = prd.Ref, pln.Ref
	}
	if _, err := st.CreateMeter(ctx, domain.Meter{MerchantRef: w.merchant, Name: "gpu"}); err != nil {
		t.Fatal(err)
	}
	end := start.AddDate(0, 1, 0)
	for i := range 8 {
		name := fmt.Sprint("u", i)
		c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: w.merchant, ExternalRef: name})
		if err != nil {
			t.Fatal(err)
		}
		w.cus[name], w.name[c.Ref] = c.Ref, name
		if i > 4 {
			continue
		}
		product := map[bool]string{true: "A", false: "B"}[i < 3]
		p := domain.Purchase{Ref: domain.NewRef(domain.PrefixPurchase), MerchantRef: w.merchant, CustomerRef: c.Ref,
			ProductRef: w.prd[product], PlanRef: w.pln[product], Status: domain.PurchaseActive, Currency: "USD",
			CurrentPeriodStart: &start, CurrentPeriodEnd: &end, Seq: 1}
		if i == 3 {
			p.Status = domain.PurchasePastDue
		}
		if _, err := st.UpsertPurchase(ctx, p); err != nil {
			t.Fatal(err)
		}
		w.pur[name] = p
	}
	return w
}

// normalise writes an answer without the references that differ between the databases.
func (w *pathWorld) normalise(got []usage.Recorded, err error) string {
	if err != nil {
		if de := domain.AsError(err); de != nil {
			return fmt.Sprintf("error %s %s", de.Code, de.Field)
		}
		return "error " + err.Error()
	}
	out := ""
	for _, r := range got {
		out += fmt.Sprintf("[%s dup=%v meter=%s units=%d %s period=%s] ", w.name[r.CustomerRef], r.Duplicate, r.Meter, r.Units,
			r.Outcome, r.PeriodStart.UTC().Format(time.RFC3339Nano))
	}
	return out
}

func compareLimits(t *testing.T, step int, fast, full *pathWorld) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []string{"u0", "u1", "u2", "u3", "u4", "u5b", "u6", "u7", "ghost"} {
		for _, p := range []string{"A", "B"} {
			for _, q := range [][2]string{{"", ""}, {"gpu", ""}, {"", "tokens"}, {"nope", ""}} {
				var got [2]any
				for j, w := range []*pathWorld{fast, full} {
					ls, err := w.u.LimitState(ctx, w.merchant, c, w.prd[p], q[0], q[1])
					if de := domain.AsError(err); de != nil {
						got[j] = fmt.Sprintf("error %s %s", de.Code, de.Field)
						continue
					} else if err != nil {
						t.Fatal(err)
					}
					ls.CustomerRef, ls.ProductRef = w.name[ls.CustomerRef], p
					ls.PurchaseRef = map[bool]string{true: "", false: "set"}[ls.PurchaseRef == ""]
					ls.PlanRef = map[string]string{w.pln["A"]: "A", w.pln["B"]: "B"}[ls.PlanRef]
					ls.DefaultPlanRef = map[string]string{w.pln["A"]: "A", w.pln["B"]: "B"}[ls.DefaultPlanRef]
					v := ls.Evaluate(1)
					got[j] = fmt.Sprintf("%s %s %s %s/%s %s meter=%s plan=%s free=%d limit=%s used=%d period=%s..%s within=%v remaining=%s reason=%s",
						ls.CustomerRef, ls.ProductRef, ls.PurchaseRef, ls.PurchaseStatus, ls.PlanType, ls.PlanRef, ls.Meter, ls.PlanMeter,
						ls.FreeUnits, deref(ls.Limit), ls.Used, ls.PeriodStart.UTC().Format(time.RFC3339Nano), derefTime(ls.PeriodEnd),
						v.WithinLimits, deref(v.Remaining), v.Reason) + " default=" + ls.DefaultPlanRef
				}
				if !reflect.DeepEqual(got[0], got[1]) {
					t.Fatalf("step %d: limits of %s on %s %v disagree\nfast: %v\nfull: %v", step, c, p, q, got[0], got[1])
				}
			}
		}
	}
}

func deref(p *int64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func derefTime(p *time.Time) string {
	if p == nil {
		return "nil"
	}
	return p.UTC().Format(time.RFC3339Nano)
}
