package workflows_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// With the default schedule every dunning state lasts days: past_due (with access) for the
// grace period, suspended (no access) until the last retry, expired after it, while the
// workflow stays open for its retention.
func TestDefaultDunningEveryStateLasts(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.at(20*day, func() { h.acts.setDeclining(true) })
	failed := 31 * day // the renewal of Feb 15 10:00
	grace := time.Duration(domain.DefaultDunning.GraceDays) * day
	last := time.Duration(domain.DefaultDunning.RetryDays[len(domain.DefaultDunning.RetryDays)-1]) * day
	checks := []struct {
		after  time.Duration
		status domain.PurchaseStatus
		access bool
	}{
		{time.Hour, domain.PurchasePastDue, true},
		{grace - time.Hour, domain.PurchasePastDue, true},
		{grace + time.Hour, domain.PurchaseSuspended, false},
		{last - time.Hour, domain.PurchaseSuspended, false},
		{last + time.Hour, domain.PurchaseExpired, false},
		{last + 20*day, domain.PurchaseExpired, false},
	}
	got := make([]workflows.State, len(checks))
	for i, c := range checks {
		h.at(failed+c.after, func() {
			v, err := h.env.QueryWorkflow(workflows.QueryState)
			if err == nil {
				err = v.Get(&got[i])
			}
			if err != nil {
				t.Errorf("query at failure+%s: %v", c.after, err)
			}
		})
	}
	h.run()
	for i, c := range checks {
		if got[i].Status != c.status || got[i].HasAccess() != c.access {
			t.Errorf("at failure+%s: %s (access %v), want %s (access %v)", c.after, got[i].Status, got[i].HasAccess(), c.status, c.access)
		}
	}
	if last-grace < 3*day || grace < 2*day {
		t.Fatalf("past_due lasts %s and suspended %s: each should last days", grace, last-grace)
	}
	wantStatuses(t, h.acts, "pending", "active", "past_due", "suspended", "expired")
}
