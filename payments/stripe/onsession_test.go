package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/payments"
)

// TestConfirmOnSessionAgainstStripeMock: at checkout the card is a SetupIntent confirmed on
// session for off-session use (so Stripe.js's authentication sets it up for the charges that
// follow), with our key in its metadata and a Stripe idempotency key of its own; refetching
// reads it back. Bad input reaches nothing.
func TestConfirmOnSessionAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	p, rec := againstMock(t)
	in := payments.OnSessionInput{IdempotencyKey: "pur_x/period-1/charge", ProcessorCustomerID: "cus_123",
		PaymentMethod: "pm_card_authenticationRequired", Metadata: map[string]string{"purchaseRef": "pur_x"}}
	res, err := p.ConfirmOnSession(ctx, in)
	// stripe-mock answers a fixture SetupIntent whatever we ask: all we can prove is that it took
	// the request and that we read its answer.
	if err != nil || !strings.HasPrefix(res.Ref, "seti_") || res.Status == "" {
		t.Fatalf("setup: %+v, %v", res, err)
	}
	s := rec.only(t, http.MethodPost, "/v1/setup_intents")
	accepted(t, s)
	for k, v := range map[string]string{
		"customer": "cus_123", "payment_method": "pm_card_authenticationRequired", "confirm": "true",
		"usage": "off_session", "payment_method_types[0]": "card", "metadata[purchaseRef]": "pur_x",
		"metadata[tollgate_idempotency_key]": "pur_x/period-1/charge",
	} {
		if got := s.Form.Get(k); got != v {
			t.Errorf("setup %s = %q, want %q", k, got, v)
		}
	}
	if s.IdempotencyKey != "pur_x/period-1/charge/setup" {
		t.Errorf("setup idempotency key %q", s.IdempotencyKey)
	}
	if again, err := p.OnSessionOutcome(ctx, res.Ref); err != nil || again.Ref != res.Ref || again.Status != res.Status {
		t.Fatalf("refetch setup: %+v, %v", again, err)
	}
	accepted(t, rec.only(t, http.MethodGet, "/v1/setup_intents/"+res.Ref))

	for _, bad := range []payments.OnSessionInput{{ProcessorCustomerID: "cus_1", PaymentMethod: "pm_1"},
		{IdempotencyKey: "k", PaymentMethod: "pm_1"}, {IdempotencyKey: "k", ProcessorCustomerID: "cus_1"}} {
		if _, err := p.ConfirmOnSession(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := p.OnSessionOutcome(ctx, "pi_123"); err == nil {
		t.Error("a PaymentIntent id read as a SetupIntent")
	}
	if n := len(rec.reqs); n != 2 {
		t.Errorf("%d requests reached Stripe, want 2", n)
	}
}
