package stripe_test

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/payments/stripe"
)

func TestVerifyWebhook(t *testing.T) {
	const secret = "whsec_test"
	payload := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","api_version":"2020-08-27",
		"data":{"object":{"id":"pi_1","object":"payment_intent"}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret})

	// An event in another API version than stripe-go's still verifies: the signature is the proof.
	ev, err := stripe.VerifyWebhook(payload, signed.Header, secret)
	if err != nil || ev.ID != "evt_1" || ev.Type != "payment_intent.succeeded" {
		t.Fatalf("event %+v, %v", ev, err)
	}
	if _, err := stripe.VerifyWebhook(payload, signed.Header, "whsec_other"); err == nil {
		t.Fatal("wrong secret accepted")
	}
	tampered := append([]byte{}, payload...)
	tampered[10] = 'X'
	if _, err := stripe.VerifyWebhook(tampered, signed.Header, secret); err == nil {
		t.Fatal("tampered payload accepted")
	}
	old := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret,
		Timestamp: time.Now().Add(-time.Hour)})
	if _, err := stripe.VerifyWebhook(payload, old.Header, secret); err == nil {
		t.Fatal("replayed old event accepted")
	}
}
