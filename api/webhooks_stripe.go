package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// POST /v1/webhooks/stripe: Stripe's events about the payments Tollgate made. The request is
// authenticated by its Stripe-Signature (the endpoint's signing secret, five minutes of
// tolerance), not by an API key. An event is answered 2xx once it is recorded in Postgres and
// its processing workflow is started (workflows.ProcessorEvent): a crash after the answer
// loses nothing, and a redelivered event id does nothing again. The workflow refetches the
// payment from Stripe, so the event's own copy of the object is only used to route it.

// maxWebhookBody bounds a webhook's body; Stripe's events are far smaller.
const maxWebhookBody = 1 << 20

// stripeEventTypes are the events Tollgate acts on; any other type is acknowledged and ignored.
// README.md lists them for the Stripe endpoint's settings.
var stripeEventTypes = map[string]bool{
	"payment_intent.succeeded": true, "payment_intent.payment_failed": true, "payment_intent.processing": true,
	"charge.refunded": true, "refund.created": true, "refund.updated": true, "charge.refund.updated": true,
	"charge.dispute.created": true, "charge.dispute.updated": true, "charge.dispute.closed": true,
	"payment_method.detached": true, "customer.deleted": true,
}

// webhookAnswer is the 200 body: received, and why nothing was done when nothing was.
type webhookAnswer struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Ignored   string `json:"ignored,omitempty"`
}

// webhookSecret is a signing secret and the processor whose events it signs.
type webhookSecret struct{ processor, secret string }

// webhookSecrets are Stripe's endpoint secret and the sandbox's, those configured.
func (s *Server) webhookSecrets() []webhookSecret {
	var out []webhookSecret
	for _, k := range []webhookSecret{{"stripe", s.cfg.StripeWebhookSecret}, {"sandbox", s.cfg.SandboxWebhookSecret}} {
		if k.secret != "" {
			out = append(out, k)
		}
	}
	return out
}

// errWebhooksUnconfigured answers an event no configured secret verifies on a server without
// Stripe's secret: the operator's to fix, not the sender's.
func errWebhooksUnconfigured() error {
	return domain.Errorf(domain.CodeUnavailable, "", "Stripe webhooks are not configured on this server: set STRIPE_WEBHOOK_SECRET")
}

func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	secrets := s.webhookSecrets()
	if len(secrets) == 0 {
		return errWebhooksUnconfigured()
	}
	return s.receiveStripeWebhook(w, r, secrets, s.cfg.StripeWebhookSecret == "")
}

// POST /v1/webhooks/stripe/{merchant}: the events of a merchant's own Stripe account
// (processors.Accounts), verified with that merchant's webhook secret alone. Their routing is
// the same: an event only says which payment to refetch, and the refetch goes to the account
// of the purchase's merchant.
func (s *Server) merchantStripeWebhook(w http.ResponseWriter, r *http.Request) error {
	merchant := r.PathValue("merchant")
	if _, err := s.store.GetMerchant(r.Context(), merchant); err != nil {
		return err
	}
	acc, own, err := s.modes.Merchants.Of(r.Context(), merchant)
	if err != nil {
		s.logFor(r).Warn("webhook: the merchant's Stripe webhook secret cannot be opened", "merchant", merchant, "err", err)
		return domain.Errorf(domain.CodeUnavailable, "", "this merchant's Stripe webhooks cannot be verified on this server now")
	}
	if !own || acc.WebhookSecret == "" {
		return domain.Errorf(domain.CodeUnavailable, "", "this merchant has no Stripe webhook secret: set it with `tollgate merchants set-stripe --webhook-secret`")
	}
	return s.receiveStripeWebhook(w, r, []webhookSecret{{"stripe", acc.WebhookSecret}}, false)
}

// receiveStripeWebhook verifies an event with secrets, records it and starts its processing.
// sandboxOnly says only the sandbox's secret is configured: a signature it does not verify
// means Stripe's webhooks are not configured here.
func (s *Server) receiveStripeWebhook(w http.ResponseWriter, r *http.Request, secrets []webhookSecret, sandboxOnly bool) error {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return domain.Errorf(domain.CodeInvalidField, "body", "a webhook body is at most %d bytes", maxWebhookBody)
	} else if err != nil {
		return domain.Errorf(domain.CodeInvalidField, "body", "the body could not be read")
	}
	in, ignored, err := decodeStripeWebhook(payload, r.Header.Get("Stripe-Signature"), secrets...)
	if domain.ErrorCode(err) == domain.CodeInvalidField && sandboxOnly &&
		domain.AsError(err).Field == "Stripe-Signature" {
		return errWebhooksUnconfigured()
	}
	if err != nil {
		return err
	}
	if ignored != "" {
		writeJSON(w, http.StatusOK, webhookAnswer{Received: true, Ignored: ignored})
		return nil
	}
	seen, dispatched, err := s.store.RecordProcessorEvent(r.Context(), store.ProcessorEvent{ID: in.EventID, Processor: in.Processor,
		Type: in.Type, ObjectRef: in.PaymentRef + in.PaymentMethod + in.ProcessorCustomer, Payload: payload})
	if err != nil {
		return err
	}
	if dispatched {
		writeJSON(w, http.StatusOK, webhookAnswer{Received: true, Duplicate: true})
		return nil
	}
	st, err := s.lifecycle() // no key: the event routes to the purchase, whose own mode moves its money
	if err != nil {
		return err
	}
	if err := st.ProcessEvent(r.Context(), in); err != nil {
		s.logFor(r).Warn("webhook: processing not started; the processor will deliver the event again", "event", in.EventID, "err", err)
		return domain.Errorf(domain.CodeUnavailable, "", "the event was recorded but could not be queued; deliver it again")
	}
	if err := s.store.MarkProcessorEventDispatched(r.Context(), in.EventID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookAnswer{Received: true, Duplicate: seen})
	return nil
}

// decodeStripeWebhook verifies a Stripe webhook with the first of secrets whose signature it
// carries, and reduces it to what routes it; the secret names the processor (Stripe's, or the
// sandbox's events in Stripe's shape). err is a 4xx *domain.Error; ignored says why an authentic
// event needs no processing.
func decodeStripeWebhook(payload []byte, signature string, secrets ...webhookSecret) (in workflows.ProcessorEventInput, ignored string, err error) {
	if signature == "" {
		return in, "", domain.Errorf(domain.CodeMissingField, "Stripe-Signature", "the Stripe-Signature header is missing")
	}
	var ev stripego.Event
	processor := ""
	err = webhook.ErrNoValidSignature
	for _, k := range secrets {
		if ev, err = stripe.VerifyWebhook(payload, signature, k.secret); !errors.Is(err, webhook.ErrNoValidSignature) {
			processor = k.processor
			break
		}
	}
	switch {
	case errors.Is(err, webhook.ErrTooOld):
		return in, "", domain.Errorf(domain.CodeInvalidField, "Stripe-Signature", "the signature is more than five minutes old")
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNoValidSignature):
		return in, "", domain.Errorf(domain.CodeInvalidField, "Stripe-Signature", "the signature does not match this endpoint's signing secret")
	case err != nil: // signed, but not an event: stripe-go could not decode it
		return in, "", domain.Errorf(domain.CodeInvalidField, "body", "the body is not a Stripe event (JSON object with id, type and data)")
	}
	if !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) > 255 || ev.Type == "" {
		return in, "", domain.Errorf(domain.CodeInvalidField, "id", "a Stripe event has an evt_ id and a type")
	}
	if !stripeEventTypes[string(ev.Type)] {
		return in, fmt.Sprintf("event type %s is not one Tollgate acts on", ev.Type), nil
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return in, "", domain.Errorf(domain.CodeMissingField, "data.object", "the event carries no object")
	}
	var obj stripeObject
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil || obj.ID == "" || len(obj.ID) > 255 {
		return in, "", domain.Errorf(domain.CodeInvalidField, "data.object", "the event's object has no id")
	}
	in = workflows.ProcessorEventInput{EventID: ev.ID, Processor: processor, Type: string(ev.Type),
		Ours: obj.Metadata["tollgate_idempotency_key"] != ""}
	switch obj.Object {
	case "payment_method":
		in.PaymentMethod = obj.ID
	case "customer":
		in.ProcessorCustomer = obj.ID
	case "payment_intent":
		in.PaymentRef = obj.ID
	case "charge":
		in.PaymentRef = cmp.Or(idOf(obj.PaymentIntent), obj.ID)
	case "refund", "dispute":
		in.PaymentRef = cmp.Or(idOf(obj.PaymentIntent), idOf(obj.Charge))
	default:
		return in, "", domain.Errorf(domain.CodeInvalidField, "data.object.object", "a %s event does not carry a %q", ev.Type, obj.Object)
	}
	if in.PaymentRef+in.PaymentMethod+in.ProcessorCustomer == "" || len(in.PaymentRef) > 255 {
		return in, "", domain.Errorf(domain.CodeInvalidField, "data.object", "the event's %s names no payment", obj.Object)
	}
	return in, "", nil
}

// stripeObject is the part of an event's object that routes it.
type stripeObject struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	PaymentIntent json.RawMessage   `json:"payment_intent"` // an id, an expanded object, or null
	Charge        json.RawMessage   `json:"charge"`
	Metadata      map[string]string `json:"metadata"`
}

// idOf reads a Stripe reference that is either an id or an expanded object.
func idOf(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

// stripeEventDoc is a Stripe event as the OpenAPI document shows it.
type stripeEventDoc struct {
	ID         string         `json:"id"`
	Object     string         `json:"object"`
	Type       string         `json:"type"`
	APIVersion string         `json:"api_version"`
	Created    int64          `json:"created"`
	Livemode   bool           `json:"livemode"`
	Data       map[string]any `json:"data"`
}

var _ = document(op{Route: "POST /v1/webhooks/stripe", Tag: "webhooks", Public: true,
	Summary: "Receive a Stripe event (authenticated by Stripe-Signature, not an API key): 200 once recorded; a repeated event id does nothing again",
	Headers: []param{{Name: "Stripe-Signature", Description: "Stripe's signature of the body with the endpoint's signing secret (STRIPE_WEBHOOK_SECRET); at most five minutes old", Required: true}},
	Body:    stripeEventDoc{}, Required: []string{"id", "type", "data"}, Out: webhookAnswer{}})

var _ = document(op{Route: "POST /v1/webhooks/stripe/{merchant}", Tag: "webhooks", Public: true,
	Summary: "Receive an event of a merchant's own Stripe account (authenticated by Stripe-Signature with that merchant's webhook secret, not an API key): 200 once recorded; a repeated event id does nothing again",
	Headers: []param{{Name: "Stripe-Signature", Description: "Stripe's signature of the body with the merchant's endpoint's signing secret (tollgate merchants set-stripe --webhook-secret); at most five minutes old", Required: true}},
	Body:    stripeEventDoc{}, Required: []string{"id", "type", "data"}, Out: webhookAnswer{}})
