package domain

import "testing"

func TestDunningScheduleValidate(t *testing.T) {
	if err := DefaultDunning.Validate(); err != nil {
		t.Fatalf("the default schedule: %v", err)
	}
	for _, c := range []struct {
		retries []int
		grace   int
		field   string // "" = valid
	}{
		{[]int{1, 3, 5}, 2, ""},
		{[]int{2}, 1, ""},
		{[]int{1, 3, 5, 7}, 7, "gracePeriodDays"}, // the old default: suspended for no time
		{[]int{1, 3, 5, 7}, 9, "gracePeriodDays"},
		{[]int{1, 3, 5, 7}, 0, "gracePeriodDays"},
		{[]int{1, 3, 5, 7}, -1, "gracePeriodDays"},
		{nil, 1, "retryDays"},
		{[]int{3, 1, 5}, 1, "retryDays"},
		{[]int{1, 1, 5}, 1, "retryDays"},
		{[]int{0, 3}, 1, "retryDays"},
		{[]int{-2, 3}, 1, "retryDays"},
		{[]int{1, 61}, 1, "retryDays"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 1, "retryDays"},
	} {
		err := DunningSchedule{RetryDays: c.retries, GraceDays: c.grace}.Validate()
		e := AsError(err)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%v grace %d: %v", c.retries, c.grace, err)
		case c.field != "" && (e == nil || e.Field != c.field || e.Code != CodeInvalidField):
			t.Errorf("%v grace %d: got %v, want INVALID_FIELD on %s", c.retries, c.grace, err, c.field)
		}
	}
}
