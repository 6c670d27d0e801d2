//go:build !fuzzonly

package api_test

import (
	"context"
	"strings"
	"testing"
)

// A charge fault recorded by any worker (here: a revoked Stripe key) shows in /readyz on every
// API replica, so an operator sees why purchases wait.
func TestReadyzShowsPaymentFaults(t *testing.T) {
	w := newWorld(t)
	_, out := w.do("GET", "/readyz", "")
	if out["payments"] != "up" {
		t.Fatalf("no fault yet: %v", out)
	}
	if err := w.st.RecordPaymentFault(context.Background(), "stripe", "fault", "processor answered 401: Invalid API Key provided"); err != nil {
		t.Fatal(err)
	}
	_, out = w.do("GET", "/readyz", "")
	got, _ := out["payments"].(string)
	if !strings.Contains(got, "failing: stripe") || !strings.Contains(got, "401") {
		t.Fatalf("readyz: %v", out)
	}
}
