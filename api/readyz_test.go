//go:build !fuzzonly

package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
)

// A charge fault recorded by any worker (here: a revoked Stripe key) shows in /readyz on every
// API replica as payments "down", so an operator sees that purchases wait; /readyz is public, so
// the processor's message goes to the server's log only.
func TestReadyzShowsPaymentFaultsAsDown(t *testing.T) {
	var logs bytes.Buffer // written before each answer is sent
	w := newWorld(t, func(c *api.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	_, out := w.do("GET", "/readyz", "")
	if out["payments"] != "up" {
		t.Fatalf("no fault yet: %v", out)
	}
	const fault = "processor answered 401: Invalid API Key provided: sk_live_****wxyz"
	if err := w.st.RecordPaymentFault(context.Background(), "stripe", "fault", fault); err != nil {
		t.Fatal(err)
	}
	_, out = w.do("GET", "/readyz", "")
	if out["payments"] != "down" {
		t.Errorf("readyz with a failing processor: %v", out)
	}
	for k, v := range out {
		if s, _ := v.(string); s != "up" && s != "down" && s != "not configured" {
			t.Errorf("readyz %s = %q: want up or down", k, s)
		}
	}
	if !strings.Contains(logs.String(), "Invalid API Key provided") || !strings.Contains(logs.String(), "processor=stripe") {
		t.Errorf("the log does not say why payments are down:\n%s", logs.String())
	}
}
