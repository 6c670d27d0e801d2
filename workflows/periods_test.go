package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/workflows"
)

// periodEnds lists the distinct period ends the projection showed, in order.
func (f *fakeActivities) periodEnds() []string {
	var out []string
	for _, p := range f.projections {
		if p.CurrentPeriodEnd == nil {
			continue
		}
		if s := p.CurrentPeriodEnd.UTC().Format(time.RFC3339); len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func wantPeriodEnds(t *testing.T, f *fakeActivities, want ...string) {
	t.Helper()
	if got := f.periodEnds(); !slices.Equal(got, want) {
		t.Fatalf("period ends:\n got %v\nwant %v", got, want)
	}
}

// A purchase made on Jan 31 renews on the last day of shorter months and comes back to the
// 31st after them, in UTC and on the customer's own calendar.
func TestRenewalsKeepTheAnchor(t *testing.T) {
	for _, c := range []struct {
		name, zone string
		start      time.Time
		want       []string
	}{
		{"UTC", "", time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC),
			[]string{"2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z", "2026-05-31T10:00:00Z"}},
		// Jan 31 20:00 in New York is Feb 1 in UTC; renewals stay at 20:00 New York time
		// before and after daylight saving starts.
		{"New York", "America/New_York", time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC),
			[]string{"2026-03-01T01:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, recurring(1000))
			h.env.SetStartTime(c.start)
			h.in.TimeZone = c.zone
			h.at(100*day, func() { h.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
			s := h.run()
			wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge", "period-3/charge", "period-4/charge")
			wantPeriodEnds(t, h.acts, c.want...)
			if !s.Anchor.Equal(c.start) || s.TimeZone != c.zone || s.EndedAt.Format(time.RFC3339) != c.want[3] {
				t.Fatalf("state: anchor %v zone %q ended %v", s.Anchor, s.TimeZone, s.EndedAt)
			}
		})
	}
}

// The anchor survives continue-as-new: the 14th period of a purchase bought on Jan 31 ends on
// Mar 31 of the next year, in the second run.
func TestAnchorSurvivesContinueAsNew(t *testing.T) {
	jan31 := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, recurring(1000))
	h.env.SetStartTime(jan31)
	next := h.runToContinueAsNew()
	if next.State == nil || !next.State.Anchor.Equal(jan31) || next.State.Period != 13 ||
		!next.State.PeriodEnd.Equal(time.Date(2027, 2, 28, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("carried state: %+v", next.State)
	}

	h2 := newHarness(t, recurring(1000), h.acts)
	h2.env.SetStartTime(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	h2.in = next
	h2.at(40*day, func() { h2.env.SignalWorkflow(workflows.SignalCancelRenewal, workflows.CancelRenewalInput{}) })
	s := h2.run()
	if s.Period != 14 || !s.EndedAt.Equal(time.Date(2027, 3, 31, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("second run: period %d ended %v", s.Period, s.EndedAt)
	}
}
