package starter_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A pause skips a boundary without charging, resumes on its own at resumesAt keeping the
// anchor; a second pause resumed with anchor now charges a new period at once. The history is
// recorded for the replay test.
func TestPauseAndResumeInThePurchase(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Monthly", Price: 1000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	anchorEnd := st.PeriodEnd

	resumesAt := anchorEnd.AddDate(0, 0, 10)
	st, err := s.c.Pause(s.ctx, s.merchant, ref, workflows.PauseInput{Behavior: domain.PauseKeepAccess, ResumesAt: &resumesAt})
	if err != nil || st.Status != domain.PurchasePaused || !st.HasAccess() {
		t.Fatalf("pause: %v %+v", err, st)
	}
	eventually(t, "the paused projection", func() bool {
		p := s.projection(ref)
		return p.Status == domain.PurchasePaused && p.Pause != nil && p.HasAccess()
	})
	st = s.advance(ref, resumesAt.Add(time.Hour))
	if st.Status != domain.PurchaseActive || st.Period != 2 || !st.PeriodStart.Equal(anchorEnd) {
		t.Fatalf("after the automatic resume: %+v", st)
	}
	if ok, _ := s.ledger(ref); len(ok) != 1 {
		t.Fatalf("charged while paused: %+v", ok)
	}

	if _, err := s.c.Pause(s.ctx, s.merchant, ref, workflows.PauseInput{Behavior: domain.PauseVoid}); err != nil {
		t.Fatal(err)
	}
	st, err = s.c.Resume(s.ctx, s.merchant, ref, workflows.ResumeNow)
	if err != nil || st.Status != domain.PurchaseActive || st.Period != 3 || st.PaidTotal != 2000 {
		t.Fatalf("resume now: %v %+v", err, st)
	}
	if ok, _ := s.ledger(ref); len(ok) != 2 || ok[1].IdempotencyKey != ref+"/period-3/charge" {
		t.Fatalf("resume now charges period 3: %+v", ok)
	}
	recordHistory(s, ref, "paused-resumed")
}
