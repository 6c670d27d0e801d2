package usage_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// Sequential costs of the hot-path statements (one client, one connection at a time); the
// concurrent HTTP figures come from bench/usage.
func BenchmarkUsageHotPath(b *testing.B) {
	ctx := context.Background()
	st := testenv.Postgres(b)
	if mode := os.Getenv("PLAN_CACHE_MODE"); mode != "" {
		var err error
		if st, err = store.Open(ctx, testenv.PostgresURL(b)+"&plan_cache_mode="+mode); err != nil {
			b.Fatal(err)
		}
		defer st.Close()
	}
	u := usage.New(st.Pool)
	m, _ := testenv.Merchant(b, st, "M")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "p"})
	st.CreatePlan(ctx, domain.Plan{MerchantRef: m, ProductRef: prd.Ref, Name: "n", Type: domain.PlanUsageBased, FreeUnits: 1 << 40})
	refs := newCustomers(b, st, m, "u", 100)
	b.Run("record", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := u.RecordMany(ctx, m, []usage.Event{{CustomerRef: refs[i%100], ProductRef: prd.Ref, ActionType: "api_call",
				Units: 1, Outcome: "success", IdempotencyKey: fmt.Sprint("r", i), OccurredAt: time.Now()}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := u.LimitState(ctx, m, refs[i%100], prd.Ref, "", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bulk1000", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			evs := make([]usage.Event, 1000)
			for j := range evs {
				evs[j] = usage.Event{CustomerRef: refs[j%100], ProductRef: prd.Ref, ActionType: "api_call",
					Units: 1, Outcome: "success", IdempotencyKey: fmt.Sprint("b", i, "-", j), OccurredAt: time.Now()}
			}
			if _, err := u.RecordMany(ctx, m, evs); err != nil {
				b.Fatal(err)
			}
		}
	})
}
