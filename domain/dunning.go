package domain

// DunningSchedule is how a merchant collects a failed renewal: retries on the given days after
// the failure, access kept for the grace period (past_due), then no access while the remaining
// retries run (suspended), and the purchase ends (expired) when the last retry fails.
type DunningSchedule struct {
	RetryDays []int `json:"retryDays"`
	GraceDays int   `json:"gracePeriodDays"`
}

// DefaultDunning is every merchant's schedule until it sets its own: past_due for 3 days
// (retries at +1 and +3), suspended from +3 to +7 (retries at +5 and +7), expired when the
// retry at +7 fails. Each state lasts days, so each is seen and acted on.
var DefaultDunning = DunningSchedule{RetryDays: []int{1, 3, 5, 7}, GraceDays: 3}

// Bounds of a merchant's schedule: a few retries within about two months, so a failed renewal
// never stays open for long.
const (
	MaxDunningRetries = 10
	MaxDunningDays    = 60
)

// Validate checks that every state of the schedule is real: at least one retry, days positive
// and strictly ascending, and a grace period of at least a day that ends before the last retry
// (otherwise suspended would last no time at all).
func (d DunningSchedule) Validate() error {
	n := len(d.RetryDays)
	switch {
	case n == 0:
		return Errorf(CodeInvalidField, "retryDays", "at least one retry is needed")
	case n > MaxDunningRetries:
		return Errorf(CodeInvalidField, "retryDays", "at most %d retries, not %d", MaxDunningRetries, n)
	}
	for i, day := range d.RetryDays {
		switch {
		case day <= 0 || day > MaxDunningDays:
			return Errorf(CodeInvalidField, "retryDays", "retry days count from the failed renewal: %d is not between 1 and %d", day, MaxDunningDays)
		case i > 0 && day <= d.RetryDays[i-1]:
			return Errorf(CodeInvalidField, "retryDays", "retry days must be ascending: %d follows %d", day, d.RetryDays[i-1])
		}
	}
	last := d.RetryDays[n-1]
	switch {
	case d.GraceDays <= 0:
		return Errorf(CodeInvalidField, "gracePeriodDays", "the grace period must be at least 1 day, not %d", d.GraceDays)
	case d.GraceDays >= last:
		return Errorf(CodeInvalidField, "gracePeriodDays",
			"the grace period (%d days) must end before the last retry (day %d), or suspended would last no time", d.GraceDays, last)
	}
	return nil
}
