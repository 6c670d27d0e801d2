package usage_test

import (
	"context"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/usage"
)

// Batches add to counters they have seen before by the counter's id. The id is checked by the
// update itself: a counter gone since (deleted by hand here) sends the batch to the full path,
// which counts it as if the id had never been known.
func TestBatchCountersByIDStayExact(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	u := usage.New(st.Pool)
	m, c, prd, _ := usageCatalog(t, st)
	other, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, ExternalRef: "user_999"})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(key string, units int64) {
		t.Helper()
		if _, err := u.RecordMany(ctx, m, []usage.Event{event(c.Ref, prd.Ref, key+"a", units),
			event(other.Ref, prd.Ref, key+"b", units), event(c.Ref, prd.Ref, key+"c", units)}); err != nil {
			t.Fatalf("batch %s: %v", key, err)
		}
	}
	used := func(customer string) int64 {
		t.Helper()
		ls, err := u.LimitState(ctx, m, customer, prd.Ref, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return ls.Used
	}
	paths := func(fn func()) (fast, full uint64) {
		f0, s0 := u.Paths()
		fn()
		f1, s1 := u.Paths()
		return f1 - f0, s1 - s0
	}

	batch("1", 1) // resolves the facts and creates the counters
	if fast, _ := paths(func() { batch("2", 2); batch("3", 3) }); fast != 2 {
		t.Fatalf("batches over known counters on the fast path: %d of 2", fast)
	}
	if got := used(c.Ref); got != 2*(1+2+3) {
		t.Fatalf("customer's counter: %d, want 12", got)
	}
	if got := used(other.Ref); got != 1+2+3 {
		t.Fatalf("other customer's counter: %d, want 6", got)
	}

	// one remembered counter disappears: the next batch must not lose its units
	if _, err := st.Pool.Exec(ctx, `DELETE FROM usage_counters WHERE customer_id = $1`, other.Ref); err != nil {
		t.Fatal(err)
	}
	if _, full := paths(func() { batch("4", 4) }); full != 1 {
		t.Fatal("a batch over a deleted counter stayed on the fast path")
	}
	if got, want := used(other.Ref), int64(4); got != want {
		t.Fatalf("recreated counter: %d, want %d", got, want)
	}
	if got, want := used(c.Ref), int64(2*(1+2+3+4)); got != want {
		t.Fatalf("untouched counter: %d, want %d", got, want)
	}
	// and the batch after it is fast again, on the new counter's id
	if fast, _ := paths(func() { batch("5", 5) }); fast != 1 {
		t.Fatal("the batch after the fallback did not return to the fast path")
	}
	if got, want := used(other.Ref), int64(4+5); got != want {
		t.Fatalf("recreated counter after another batch: %d, want %d", got, want)
	}
}
