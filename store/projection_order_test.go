package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// Projection writes are ordered by the workflow time of their step, then the sequence number:
// the steps of a reset run (numbered again from the reset point) apply, a late retry of an
// older write does not, and each step has one audit row however often it is retried.
func TestProjectionOrdersByStepTimeThenSeq(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, c, prd, pln := catalog(t, st)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	p := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref,
		Status: domain.PurchaseActive, Currency: "USD"}
	write := func(seq int64, at time.Time, period int, action string) bool {
		t.Helper()
		p.Seq, p.StepAt, p.Period = seq, at, period
		ok, err := st.ProjectPurchase(ctx, p, &store.AuditEntry{MerchantRef: m, ObjectType: "purchase", ObjectRef: p.Ref,
			Action: action, Seq: seq, StepAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		seq    int64
		at     time.Time
		period int
		action string
		want   bool
	}{
		{1, time.Time{}, 1, "create", true},            // written before step times were kept
		{5, t0, 1, "activate", true},                   // a step time beats none
		{9, t0.Add(time.Hour), 4, "renew", true},       // the run goes on
		{9, t0.Add(time.Hour), 4, "renew", false},      // a retried write
		{7, t0.Add(time.Minute), 3, "renew", false},    // a late write of an earlier step
		{6, t0.Add(2 * time.Hour), 1, "cancel", true},  // the reset run: seq from the reset point, later in time
		{7, t0.Add(2 * time.Hour), 1, "renew", true},   // its next step in the same workflow task
		{6, t0.Add(2 * time.Hour), 1, "cancel", false}, // its retried write
	}
	for _, s := range steps {
		if got := write(s.seq, s.at, s.period, s.action); got != s.want {
			t.Fatalf("write seq %d at %s: applied %v, want %v", s.seq, s.at, got, s.want)
		}
	}
	got, err := st.GetPurchase(ctx, m, p.Ref)
	if err != nil || got.Period != 1 || got.Seq != 7 {
		t.Fatalf("projection: %v period %d seq %d, want the reset run's period 1 at seq 7", err, got.Period, got.Seq)
	}
	audit, err := st.ListAudit(ctx, m, p.Ref)
	if err != nil || len(audit) != 6 {
		t.Fatalf("audit: %v %d rows, want one per step (6)", err, len(audit))
	}
}
