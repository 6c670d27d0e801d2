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

// Concurrent batches with the same idempotency keys: a batch whose COPY meets a key taken by
// another in flight retries, so each key is stored and counted once and every caller gets the
// one reference of each key.
func TestConcurrentBatchesCountEachKeyOnce(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, _ := testenv.Merchant(t, st, "M")
	prd, _ := st.CreateProduct(ctx, domain.Product{MerchantRef: m, Name: "p"})
	refs := newCustomers(t, st, m, "u", 20)
	const callers, perBatch = 8, 200
	answers := make([][]usage.Recorded, callers)
	var wg sync.WaitGroup
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs := make([]usage.Event, perBatch)
			for i := range evs {
				evs[i] = usage.Event{CustomerRef: refs[i%len(refs)], ProductRef: prd.Ref, ActionType: "api_call", Units: 1,
					Outcome: usage.OutcomeSuccess, IdempotencyKey: fmt.Sprint("same-", i), OccurredAt: time.Now(), Metadata: []byte(`{"w":1}`)}
			}
			var err error
			if answers[w], err = u.RecordMany(ctx, m, evs); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range perBatch {
		for w := 1; w < callers; w++ {
			if answers[w][i].Ref != answers[0][i].Ref || answers[w][i].Ref == "" {
				t.Fatalf("event %d: caller %d got %q, caller 0 %q", i, w, answers[w][i].Ref, answers[0][i].Ref)
			}
		}
	}
	var events, units int64
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE merchant_id = $1`, m).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT coalesce(sum(units), 0) FROM usage_counters WHERE merchant_id = $1`, m).Scan(&units); err != nil {
		t.Fatal(err)
	}
	var objects int64
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE merchant_id = $1 AND metadata->>'w' = '1'`, m).Scan(&objects); err != nil {
		t.Fatal(err)
	}
	if objects != perBatch {
		t.Fatalf("%d events kept their metadata object, want %d", objects, perBatch)
	}
	if events != perBatch || units != perBatch {
		t.Fatalf("stored %d events and counted %d units, want %d of each", events, units, perBatch)
	}
}
