package stripe_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tollgate-billing/tollgate/payments"
)

// LookupPayment's reads are well-formed for Stripe: the PaymentIntent, its refunds and its
// disputes; a charge is read for its PaymentIntent (stripe-mock's has none: not Tollgate's);
// an id that is no Stripe payment asks nothing.
func TestLookupPaymentAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	facts, err := p.LookupPayment(context.Background(), "pi_123")
	if err != nil || facts.PaymentRef == "" || facts.Status == "" || facts.Currency == "" {
		t.Fatalf("lookup: %+v %v", facts, err)
	}
	accepted(t, rec.only(t, http.MethodGet, "/v1/payment_intents/pi_123"))
	accepted(t, rec.only(t, http.MethodGet, "/v1/refunds"))
	accepted(t, rec.only(t, http.MethodGet, "/v1/disputes"))

	p, rec = againstMock(t)
	_, err = p.LookupPayment(context.Background(), "ch_123")
	if d, ok := payments.IsDecline(err); !ok || d.Code != "resource_missing" {
		t.Fatalf("a charge without a PaymentIntent: %v", err)
	}
	accepted(t, rec.only(t, http.MethodGet, "/v1/charges/ch_123"))

	p, rec = againstMock(t)
	if _, err := p.LookupPayment(context.Background(), "txn_123"); err == nil {
		t.Fatal("a txn_ id looked up at Stripe")
	}
	if len(rec.reqs) != 0 {
		t.Fatalf("requests for a txn_ id: %+v", rec.reqs)
	}
}
