package mcp_test

import (
	"strings"
	"testing"
)

// The assistant creates a webhook endpoint (the secret is shown), lists it, and lists the
// events of a customer it created; a private address on a bad URL is refused naming the field.
func TestEventAndWebhookTools(t *testing.T) {
	w := newWorld(t)
	cs := w.overHTTP(w.key)
	fails(t, cs, "create_webhook_endpoint", map[string]any{"url": "ftp://example.com/x"}, "INVALID_FIELD")
	fails(t, cs, "create_webhook_endpoint", map[string]any{"url": "http://127.0.0.1:3000/hooks", "enabledEvents": []string{"nope"}},
		"INVALID_FIELD")
	e := ok(t, cs, "create_webhook_endpoint", map[string]any{"url": "http://127.0.0.1:3000/hooks",
		"enabledEvents": []string{"customer.created", "payment.failed"}, "description": "CRM"})
	ref := e.str("reference")
	if !strings.HasPrefix(ref, "we_") || !strings.HasPrefix(e.str("secret"), "whsec_") {
		t.Fatalf("create: %v", e.structured)
	}
	mustContain(t, "create_webhook_endpoint", e.text, ref, "customer.created, payment.failed", "CRM", e.str("secret"))
	l := ok(t, cs, "list_webhook_endpoints", nil)
	mustContain(t, "list_webhook_endpoints", l.text, ref+" → http://127.0.0.1:3000/hooks")
	if strings.Contains(l.text, e.str("secret")) {
		t.Fatal("the list shows the secret")
	}
	cus := ok(t, cs, "create_customer", map[string]any{"email": "jane@acme.com"}).str("reference")
	ev := ok(t, cs, "list_events", map[string]any{"objectRef": cus})
	mustContain(t, "list_events", ev.text, "customer.created of customer "+cus)
	if none := ok(t, cs, "list_events", map[string]any{"type": "payment.failed"}); strings.Contains(none.text, "evt_") {
		t.Fatalf("payment.failed filter: %s", none.text)
	}
}
