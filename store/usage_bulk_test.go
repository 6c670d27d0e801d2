package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// BenchmarkUsageBulkStatements compares the per-pair batch statement with the set-based one on
// a batch of 1,000 events over 1,000 customers (half with a live purchase, half by externalRef),
// the shape of bench/usage.
func BenchmarkUsageBulkStatements(b *testing.B) {
	ctx := context.Background()
	st := testenv.Postgres(b)
	m, _ := testenv.Merchant(b, st, "M")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "p"})
	pln, _ := st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "n", Type: domain.PlanUsageBased, FreeUnits: 1 << 40})
	now := time.Now().UTC()
	var refs []string
	for i := range 1000 {
		c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, ExternalRef: fmt.Sprint("u", i)})
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			refs = append(refs, c.Ref)
			if _, err := st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref,
				PlanRef: pln.Ref, Status: domain.PurchaseActive, Currency: "USD", CurrentPeriodStart: &now, Seq: 1}); err != nil {
				b.Fatal(err)
			}
		} else {
			refs = append(refs, c.ExternalRef)
		}
	}
	if _, err := st.Pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct{ name, sql string }{{"per-pair", store.RecordSQL}, {"set-based", store.RecordBulkSQL}} {
		b.Run(q.name, func(b *testing.B) {
			n := 1000
			for it := 0; b.Loop(); it++ {
				ids, cus, prds, meters, actions, outcomes, keys, meta := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
				units, at := make([]int64, n), make([]time.Time, n)
				for i := range n {
					ids[i], cus[i], prds[i], actions[i], outcomes[i], keys[i], units[i], at[i] = domain.NewRef("usage"), refs[i], prd.Ref, "api_call", "success", fmt.Sprint(q.name, it, "-", i), 1, now
				}
				if _, err := st.Pool.Exec(ctx, q.sql, m, ids, cus, prds, meters, actions, units, outcomes, keys, at, meta, domain.DefaultMeters, store.DefaultPlanMeter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExplainBulkStatement prints the plan of the set-based batch statement on 1,000
// customers. Run with TOLLGATE_EXPLAIN=1; it asserts nothing.
func TestExplainBulkStatement(t *testing.T) {
	if os.Getenv("TOLLGATE_EXPLAIN") == "" {
		t.Skip("set TOLLGATE_EXPLAIN=1 to print the plan")
	}
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "M")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "p"})
	pln, _ := st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "n", Type: domain.PlanUsageBased, FreeUnits: 1 << 40})
	now := time.Now().UTC()
	var refs []string
	for i := range 1000 {
		c, _ := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, ExternalRef: fmt.Sprint("u", i)})
		if i%2 == 0 {
			refs = append(refs, c.Ref)
			st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref,
				PlanRef: pln.Ref, Status: domain.PurchaseActive, Currency: "USD", CurrentPeriodStart: &now, Seq: 1})
		} else {
			refs = append(refs, c.ExternalRef)
		}
	}
	st.Pool.Exec(ctx, "ANALYZE")
	sql := os.Getenv("TOLLGATE_EXPLAIN_SQL")
	if sql == "one" || sql == "limits" {
		var q string
		var args []any
		if sql == "one" {
			q, args = store.RecordOneSQL, []any{m, refs[3], prd.Ref, "", "api_call", int64(1), domain.NewRef("usage"), "success", "one", now, "", domain.DefaultMeters, store.DefaultPlanMeter}
		} else {
			q, args = store.LimitStateSQL, []any{m, refs[3], prd.Ref, "", store.DefaultPlanMeter, "", domain.DefaultMeters}
		}
		conn, err := st.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if sql == "one" {
				args[6], args[8] = domain.NewRef("usage"), fmt.Sprint("k", i)
			}
			r, err := conn.Query(ctx, q, args...)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}
		var generic, custom int
		conn.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`, q).Scan(&generic, &custom)
		conn.Release()
		t.Logf("%s: generic plans %d, custom plans %d", sql, generic, custom)
		rows, err := st.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS OFF) "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			rows.Scan(&l)
			t.Log(l)
		}
		return
	}
	q := store.RecordBulkSQL
	if sql == "perpair" {
		q = store.RecordSQL
	}
	n := 1000
	ids, cus, prds, meters, actions, outcomes, keys, meta := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units, at := make([]int64, n), make([]time.Time, n)
	for i := range n {
		ids[i], cus[i], prds[i], actions[i], outcomes[i], keys[i], units[i], at[i] = domain.NewRef("usage"), refs[i], prd.Ref, "api_call", "success", fmt.Sprint("k", i), 1, now
	}
	for w := range 5 { // warm: the counters exist, as in a steady load
		wids, wkeys := make([]string, n), make([]string, n)
		for i := range n {
			wids[i], wkeys[i] = domain.NewRef("usage"), fmt.Sprint("w", w, "-", i)
		}
		if _, err := st.Pool.Exec(ctx, q, m, wids, cus, prds, meters, actions, units, outcomes, wkeys, at, meta, domain.DefaultMeters, store.DefaultPlanMeter); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS OFF) "+q, m, ids, cus, prds, meters, actions, units, outcomes, keys, at, meta, domain.DefaultMeters, store.DefaultPlanMeter)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		rows.Scan(&l)
		t.Log(l)
	}
}
