package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/domain"
)

// Event is an outcome the sandbox reports, shaped like Stripe's event of the same type.
type Event struct {
	Type   string         // payment_intent.succeeded, charge.dispute.created, …
	Object map[string]any // the event's data.object
}

// WebhookPath is the route Stripe's events and the sandbox's reach (the same handler).
const WebhookPath = "/v1/webhooks/stripe"

// Webhooks sends the sandbox's outcomes — an authentication approved or refused, a processing
// payment settled, a dispute opened or closed — as Stripe sends its own: an event signed in a
// Stripe-Signature header, posted to the webhook handler. The secret is the sandbox's, not
// Stripe's, so the handler knows the event as the sandbox's; everything after the signature is
// the path Stripe's events take, which dev mode and the tests therefore run end to end.
type Webhooks struct {
	Secret string
	// Handler serves the webhook route (the API's whole handler): events are delivered in process.
	Handler http.Handler
}

// ready reports whether Send has a handler and a secret.
func (w *Webhooks) ready() bool { return w != nil && w.Handler != nil && w.Secret != "" }

// Send signs ev and delivers it; an answer other than 2xx is an error.
func (w *Webhooks) Send(ctx context.Context, ev Event) error {
	if !w.ready() {
		return fmt.Errorf("sandbox: no webhook handler to send %s to", ev.Type)
	}
	body, err := json.Marshal(map[string]any{"id": domain.NewRef("evt_sb"), "object": "event", "type": ev.Type,
		"api_version": "2023-10-16", "created": time.Now().Unix(), "livemode": false,
		"data": map[string]any{"object": ev.Object}})
	if err != nil {
		return fmt.Errorf("sandbox: encode %s: %w", ev.Type, err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: w.Secret,
		Timestamp: time.Now()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, WebhookPath, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	rec := httptest.NewRecorder() // the handler runs in process: its answer is only read here
	w.Handler.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return fmt.Errorf("sandbox: webhook %s answered %d: %s", ev.Type, rec.Code, rec.Body.String())
	}
	return nil
}
