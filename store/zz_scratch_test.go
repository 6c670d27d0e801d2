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

func BenchmarkScratch(b *testing.B) {
	ctx := context.Background()
	st := testenv.Postgres(b)
	if mode := os.Getenv("PLAN_CACHE_MODE"); mode != "" {
		var err error
		if st, err = store.Open(ctx, testenv.PostgresURL(b)+"&plan_cache_mode="+mode); err != nil {
			b.Fatal(err)
		}
	}
	m, _ := testenv.Merchant(b, st, "M")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "p"})
	var refs []string
	for i := range 100 {
		c, _ := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, ExternalRef: fmt.Sprint("u", i)})
		refs = append(refs, c.Ref)
	}
	ps := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var x int
	b.Run("select1", func(b *testing.B) {
		for b.Loop() {
			if err := st.Pool.QueryRow(ctx, "SELECT 1").Scan(&x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("customer", func(b *testing.B) {
		var u int64
		for i := 0; b.Loop(); i++ {
			if err := st.Pool.QueryRow(ctx, `SELECT usage_version FROM customers WHERE id = $1`, refs[i%100]).Scan(&u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("counter", func(b *testing.B) {
		var u int64
		for i := 0; b.Loop(); i++ {
			if err := st.Pool.QueryRow(ctx, `SELECT coalesce((SELECT units FROM usage_counters WHERE merchant_id=$1 AND customer_id=$2 AND product_id=$3 AND meter_name=$4 AND period_start=$5),0)`, m, refs[i%100], prd.Ref, "api_requests", ps).Scan(&u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := st.LimitState(ctx, m, refs[i%100], prd.Ref, "", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := st.RecordUsage(ctx, m, []store.UsageEvent{{CustomerRef: refs[i%100], ProductRef: prd.Ref, ActionType: "api_call",
				Units: 1, Outcome: "success", IdempotencyKey: fmt.Sprint("r", i), OccurredAt: time.Now()}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
