package stripe

import (
	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// VerifyWebhook checks the Stripe-Signature header of a webhook payload against the endpoint's
// signing secret (whsec_…), including the timestamp tolerance that stops replays, and returns
// the event.
//
// The API-version check is off: an endpoint made in the Dashboard sends events in the
// account's default version, which need not be stripe-go v76's, and we read only stable fields.
// The signature is what proves the event came from Stripe.
func VerifyWebhook(payload []byte, sigHeader, secret string) (stripego.Event, error) {
	return webhook.ConstructEventWithOptions(payload, sigHeader, secret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
}
