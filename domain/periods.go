package domain

import "time"

// Billing periods (DESIGN.md: "Billing periods are computed from the purchase's anchor").
// Every boundary of a purchase is its anchor plus a whole number of cycles, never the previous
// boundary plus one cycle: a month that clamps the anchor's day (Jan 31 → Feb 28) does not
// shorten the months after it (→ Mar 31 → Apr 30), and a yearly Feb 29 comes back in leap years.

// PeriodBoundary returns the end of period n of a purchase whose period 1 starts at anchor:
// anchor plus n cycles (n = 0 is the anchor). Calendar months and years follow Stripe: the
// anchor's day of the month, clamped to the month's last day, at the anchor's time of day on
// the wall clock of loc (the customer's time zone; nil means UTC), so a boundary stays at the
// same local hour across daylight saving changes. The result is in UTC.
func (p Plan) PeriodBoundary(anchor time.Time, n int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	a := anchor.In(loc)
	switch p.BillingCycle {
	case CycleWeekly:
		a = a.AddDate(0, 0, 7*n)
	case CycleQuarterly:
		a = addMonthsClamped(a, 3*n)
	case CycleYearly:
		a = addMonthsClamped(a, 12*n)
	case CycleCustom:
		a = a.AddDate(0, 0, p.cycleDays()*n)
	default:
		a = addMonthsClamped(a, n)
	}
	return a.UTC()
}

// PeriodEnd returns the end of the period that starts at start: one cycle later, in start's
// location. It chains (each end from the previous one), so it drifts after a clamped month;
// renewals use PeriodBoundary. Kept for workflow histories recorded before the anchor.
func (p Plan) PeriodEnd(start time.Time) time.Time {
	return p.PeriodBoundary(start, 1, start.Location()).In(start.Location())
}

func (p Plan) cycleDays() int {
	if p.CycleDays <= 0 {
		return 30
	}
	return p.CycleDays
}

// addMonthsClamped moves t by months on its own wall clock, keeping the day of the month or
// the month's last day when the month is shorter.
func addMonthsClamped(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	lastDay := time.Date(y, m+time.Month(months)+1, 0, 0, 0, 0, 0, t.Location()).Day()
	return time.Date(y, m+time.Month(months), min(d, lastDay), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}
