package workflows_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A paused purchase charges nothing at its boundaries and resumes on its own at resumesAt (a
// timer; the test suite skips the time), anchor kept: the next charge is at the old anchor.
func TestPauseSkipsBoundariesAndResumesOnItsOwn(t *testing.T) {
	h := newHarness(t, recurring(1000))
	resumesAt := start.Add(75 * day) // 2026-03-31, after the boundaries of Feb 15 and Mar 15
	var pause error
	h.update(5*day, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseKeepAccess, ResumesAt: &resumesAt}, &pause)
	var paused, resumed workflows.State
	h.stateAt(65*day, &paused)
	h.stateAt(80*day, &resumed)
	h.at(100*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if pause != nil {
		t.Fatal(pause)
	}
	if paused.Status != domain.PurchasePaused || !paused.HasAccess() || paused.Period != 3 || paused.NextBillingAt() != nil ||
		paused.Pause == nil || !paused.Pause.ResumesAt.Equal(resumesAt) {
		t.Fatalf("while paused: %+v", paused)
	}
	if resumed.Status != domain.PurchaseActive || resumed.Pause != nil || !resumed.PeriodEnd.Equal(time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the automatic resume: %+v", resumed)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-4/charge")
	wantStatuses(t, h.acts, "pending", "active", "paused", "active", "pending_cancellation", "cancelled")
	if !s.EndedAt.Equal(time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)) || s.PaidTotal != 2000 {
		t.Fatalf("end: %+v", s)
	}
	var sawPaused bool
	for _, p := range h.acts.projections {
		if p.Status == domain.PurchasePaused {
			sawPaused = p.Pause != nil && p.Pause.Behavior == domain.PauseKeepAccess && p.HasAccess()
		}
	}
	if !sawPaused {
		t.Fatal("no paused projection with its pause")
	}
}

// Resume with anchor now starts a period at the resume and charges it at once; a void pause
// withholds access meanwhile.
func TestResumeNowChargesANewPeriod(t *testing.T) {
	h := newHarness(t, recurring(1000))
	var pause, resume error
	h.update(5*day, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseVoid}, &pause)
	var paused workflows.State
	h.stateAt(40*day, &paused)
	h.update(50*day, workflows.UpdateResume, workflows.ResumeInput{Anchor: workflows.ResumeNow}, &resume)
	h.at(55*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h.run()
	if pause != nil || resume != nil {
		t.Fatal(pause, resume)
	}
	if paused.Status != domain.PurchasePaused || paused.HasAccess() || h.acts.projections[3].HasAccess() {
		t.Fatalf("a void pause grants no access: %+v", paused)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-3/charge")
	resumedAt := start.Add(50 * day)
	if !h.acts.chargedAt["pur_t/period-3/charge"].Equal(resumedAt) || !s.EndedAt.Equal(resumedAt.AddDate(0, 1, 0)) {
		t.Fatalf("charged %v, ended %v", h.acts.chargedAt["pur_t/period-3/charge"], s.EndedAt)
	}
}

// Bad pauses and resumes are refused before anything enters the history; cancel still works
// while paused, and a cancelled paused purchase ends at its period end without a charge.
func TestPauseRefusals(t *testing.T) {
	h := newHarness(t, recurring(1000))
	past := start.Add(-day)
	var badBehavior, missingBehavior, pastResume, resumeActive, pause, again, change, badAnchor, cancel, resumeNow error
	h.update(1*day, workflows.UpdatePause, workflows.PauseInput{Behavior: "keep_as_draft"}, &badBehavior)
	h.update(1*day+time.Minute, workflows.UpdatePause, workflows.PauseInput{}, &missingBehavior)
	h.update(1*day+2*time.Minute, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseVoid, ResumesAt: &past}, &pastResume)
	h.update(2*day, workflows.UpdateResume, workflows.ResumeInput{}, &resumeActive)
	h.update(3*day, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseVoid}, &pause)
	h.update(4*day, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseVoid}, &again)
	h.update(4*day+time.Minute, workflows.UpdateChangePlan, workflows.ChangePlanInput{NewPlan: domain.Plan{Ref: "pln_b",
		ProductRef: "prd_a", Type: domain.PlanRecurring, Price: 2000, Currency: "USD", Status: domain.StatusActive,
		BillingCycle: domain.CycleMonthly}}, &change)
	h.update(5*day, workflows.UpdateResume, workflows.ResumeInput{Anchor: "later"}, &badAnchor)
	h.update(6*day, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{}, &cancel)
	h.update(7*day, workflows.UpdateResume, workflows.ResumeInput{Anchor: workflows.ResumeNow}, &resumeNow)
	s := h.run()
	refusal(t, badBehavior, domain.CodeInvalidField, "behavior must be keep_access")
	refusal(t, missingBehavior, domain.CodeMissingField, "behavior is required")
	refusal(t, pastResume, domain.CodeInvalidField, "resumesAt must be in the future")
	refusal(t, resumeActive, domain.CodeConflict, "is active, not paused")
	refusal(t, again, domain.CodeConflict, "already paused")
	refusal(t, change, domain.CodeConflict, "paused; resume it first")
	refusal(t, badAnchor, domain.CodeInvalidField, "anchor must be keep")
	refusal(t, resumeNow, domain.CodeConflict, "renewal is cancelled")
	if pause != nil || cancel != nil {
		t.Fatal(pause, cancel)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge")
	wantStatuses(t, h.acts, "pending", "active", "paused", "cancelled")
	if s.Status != domain.PurchaseCancelled || !s.EndedAt.Equal(start.AddDate(0, 1, 0)) || s.Pause != nil {
		t.Fatalf("end: %+v", s)
	}
}

// A past-due purchase is not paused: its unpaid period must be settled first.
func TestPausePastDueRefused(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(30*day, func() { h.acts.setDeclining(true) })
	var pause error
	h.update(32*day, workflows.UpdatePause, workflows.PauseInput{Behavior: domain.PauseVoid}, &pause)
	h.run()
	refusal(t, pause, domain.CodeConflict, "cannot pause: the purchase is past_due")
}
