package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// TestExplainUsagePlans prints the plans of the hot-path statements on a seeded database, to
// check they stay index lookups. Run with TOLLGATE_EXPLAIN=1; it asserts nothing.
func TestExplainUsagePlans(t *testing.T) {
	if os.Getenv("TOLLGATE_EXPLAIN") == "" {
		t.Skip("set TOLLGATE_EXPLAIN=1 to print the plans")
	}
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _, _ := st.CreateMerchant(ctx, "X")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m.Ref, Name: "p"})
	pln, _ := st.CreatePlan(ctx, domain.Plan{MerchantRef: m.Ref, ProductRef: prd.Ref, Name: "n", Type: domain.PlanUsageBased, FreeUnits: 1 << 40})
	now := time.Now()
	var refs []string
	for i := range 100 {
		c, _ := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m.Ref, ExternalRef: fmt.Sprint("u", i)})
		refs = append(refs, c.Ref)
		if i%2 == 0 {
			st.UpsertPurchase(ctx, domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m.Ref, CustomerRef: c.Ref, ProductRef: prd.Ref,
				PlanRef: pln.Ref, Status: domain.PurchaseActive, Currency: "USD", CurrentPeriodStart: &now, Seq: 1})
		}
	}
	st.Pool.Exec(ctx, "ANALYZE")
	n := 1000
	ids, cus, prds, meters, actions, outcomes, keys, meta := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units, at := make([]int64, n), make([]time.Time, n)
	for i := range n {
		ids[i], cus[i], prds[i], actions[i], outcomes[i], keys[i], units[i], at[i] = domain.NewRef("usage"), refs[i%len(refs)], prd.Ref, "api_call", "success", fmt.Sprint("k", i), 1, now
	}
	for _, q := range []struct {
		name string
		sql  string
		args []any
	}{
		{"record 1000", store.RecordSQL, []any{m.Ref, ids, cus, prds, meters, actions, units, outcomes, keys, at, meta, domain.DefaultMeters, store.DefaultPlanMeter}},
		{"record 1", store.RecordSQL, []any{m.Ref, []string{"usage_x"}, []string{"u5"}, []string{prd.Ref}, []string{""}, []string{"api_call"}, []int64{1}, []string{"success"}, []string{"one"}, []time.Time{now}, []string{""}, domain.DefaultMeters, store.DefaultPlanMeter}},
		{"limits", store.LimitStateSQL, []any{m.Ref, "u7", prd.Ref, "", store.DefaultPlanMeter, "", domain.DefaultMeters}},
	} {
		conn, err := st.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if q.name == "record 1000" {
				break
			}
			r, err := conn.Query(ctx, q.sql, q.args...)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}
		var generic, custom int
		conn.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`, q.sql).Scan(&generic, &custom)
		conn.Release()
		t.Logf("%s: generic plans %d, custom plans %d", q.name, generic, custom)
		rows, err := st.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS OFF) "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var l string
			rows.Scan(&l)
			lines = append(lines, l)
		}
		t.Logf("== %s\n%s", q.name, strings.Join(lines, "\n"))
	}
}
