package domain

import (
	"strings"
	"testing"
	"time"
)

// monthlyFromJan31 is every boundary of a monthly purchase anchored on 2025-01-31 10:00 UTC,
// written out by hand: 48 months over three common years and the leap year 2028.
const monthlyFromJan31 = `
2025-02-28 2025-03-31 2025-04-30 2025-05-31 2025-06-30 2025-07-31 2025-08-31 2025-09-30 2025-10-31 2025-11-30 2025-12-31 2026-01-31
2026-02-28 2026-03-31 2026-04-30 2026-05-31 2026-06-30 2026-07-31 2026-08-31 2026-09-30 2026-10-31 2026-11-30 2026-12-31 2027-01-31
2027-02-28 2027-03-31 2027-04-30 2027-05-31 2027-06-30 2027-07-31 2027-08-31 2027-09-30 2027-10-31 2027-11-30 2027-12-31 2028-01-31
2028-02-29 2028-03-31 2028-04-30 2028-05-31 2028-06-30 2028-07-31 2028-08-31 2028-09-30 2028-10-31 2028-11-30 2028-12-31 2029-01-31`

func TestPeriodBoundaryKeepsTheAnchorFor48Months(t *testing.T) {
	plan := Plan{BillingCycle: CycleMonthly}
	anchor := time.Date(2025, 1, 31, 10, 0, 0, 0, time.UTC)
	for i, want := range strings.Fields(monthlyFromJan31) {
		got := plan.PeriodBoundary(anchor, i+1, nil)
		if got.Format("2006-01-02") != want || got.Format("15:04:05") != "10:00:00" {
			t.Fatalf("end of period %d: got %s, want %s 10:00", i+1, got, want)
		}
	}
}

func TestPeriodBoundary(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name   string
		cycle  BillingCycle
		days   int
		anchor string
		loc    *time.Location
		want   []string // ends of periods 1, 2, …
	}{
		{"yearly from Feb 29 comes back in leap years", CycleYearly, 0, "2024-02-29T09:30:00Z", nil,
			[]string{"2025-02-28T09:30:00Z", "2026-02-28T09:30:00Z", "2027-02-28T09:30:00Z", "2028-02-29T09:30:00Z"}},
		{"quarterly from Nov 30", CycleQuarterly, 0, "2027-11-30T00:00:00Z", nil,
			[]string{"2028-02-29T00:00:00Z", "2028-05-30T00:00:00Z", "2028-08-30T00:00:00Z", "2028-11-30T00:00:00Z", "2029-02-28T00:00:00Z"}},
		{"monthly from Jan 30 skips no month", CycleMonthly, 0, "2026-01-30T12:00:00Z", nil,
			[]string{"2026-02-28T12:00:00Z", "2026-03-30T12:00:00Z", "2026-04-30T12:00:00Z"}},
		{"weekly", CycleWeekly, 0, "2026-02-26T08:00:00Z", nil,
			[]string{"2026-03-05T08:00:00Z", "2026-03-12T08:00:00Z"}},
		{"custom cycle of 10 days", CycleCustom, 10, "2026-02-25T08:00:00Z", nil,
			[]string{"2026-03-07T08:00:00Z", "2026-03-17T08:00:00Z"}},
		// 20:00 in New York on Jan 31 is Feb 1 in UTC: the customer's month ends count, at
		// 20:00 local before and after daylight saving starts (Mar 8).
		{"monthly in New York", CycleMonthly, 0, "2026-02-01T01:00:00Z", ny,
			[]string{"2026-03-01T01:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}},
		{"weekly in New York across daylight saving", CycleWeekly, 0, "2026-03-02T14:00:00Z", ny,
			[]string{"2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"}},
		// 01:00 in Tokyo on Jan 31 is Jan 30 in UTC.
		{"monthly in Tokyo", CycleMonthly, 0, "2026-01-30T16:00:00Z", tokyo,
			[]string{"2026-02-27T16:00:00Z", "2026-03-30T16:00:00Z", "2026-04-29T16:00:00Z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := Plan{BillingCycle: c.cycle, CycleDays: c.days}
			anchor := utc(c.anchor)
			if got := plan.PeriodBoundary(anchor, 0, c.loc); !got.Equal(anchor) {
				t.Fatalf("period 0 ends at %s, want the anchor", got)
			}
			for i, w := range c.want {
				if got := plan.PeriodBoundary(anchor, i+1, c.loc); !got.Equal(utc(w)) || got.Location() != time.UTC {
					t.Fatalf("end of period %d: got %s, want %s", i+1, got, w)
				}
			}
		})
	}
}
