//go:build !fuzzonly

package api_test

import (
	"encoding/json"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
)

// A merchant reads its dunning schedule (the defaults make every state last), changes it, and
// a schedule that would make a state last no time is refused with the field named and changes
// nothing; the other merchant's schedule is untouched.
func TestDunningSettings(t *testing.T) {
	w := newWorld(t)
	// a new merchant has the defaults the workflows are tested with
	defaultsJSON, _ := json.Marshal(domain.DefaultDunning)
	defaults := string(defaultsJSON)
	schedule := func(e *env) string {
		t.Helper()
		_, raw := e.send("GET", "/v1/settings/dunning", "")
		var d domain.DunningSchedule
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		out, _ := json.Marshal(d)
		return string(out)
	}
	if got := schedule(w.env); got != defaults {
		t.Fatalf("defaults: %s, want %s", got, defaults)
	}
	for body, field := range map[string]string{
		`{"gracePeriodDays":7}`:                   "gracePeriodDays", // suspended would last no time
		`{"retryDays":[1,2,3]}`:                   "gracePeriodDays",
		`{"retryDays":[5,3,7]}`:                   "retryDays",
		`{"retryDays":[1,3],"gracePeriodDays":0}`: "gracePeriodDays",
	} {
		status, out := w.do("PATCH", "/v1/settings/dunning", body)
		if status != 400 || errField(out) != field || errCode(out) != "INVALID_FIELD" {
			t.Fatalf("PATCH %s: %d %v, want 400 on %s", body, status, out, field)
		}
	}
	if got := schedule(w.env); got != defaults {
		t.Fatalf("refused changes changed the schedule: %s", got)
	}
	w.must(200, "PATCH", "/v1/settings/dunning", `{"retryDays":[2,4,8,14],"gracePeriodDays":5}`)
	w.must(200, "PATCH", "/v1/settings/dunning", `{"gracePeriodDays":6}`)
	if got := schedule(w.env); got != `{"retryDays":[2,4,8,14],"gracePeriodDays":6}` {
		t.Fatalf("after the change: %s", got)
	}
	m, err := w.st.GetMerchant(t.Context(), w.merchant)
	if err != nil || m.Dunning().GraceDays != 6 || len(m.Dunning().RetryDays) != 4 {
		t.Fatalf("what the workflows read: %+v %v", m.Dunning(), err)
	}
	if got := schedule(w.asB()); got != defaults {
		t.Fatalf("the other merchant's schedule: %s", got)
	}
}
