package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
)

// Sandbox-only routes that play what Stripe reports later by webhook: a processing payment
// settling (a payment made with the sandbox's processing card, 4000 0000 0000 7726), and a
// dispute opened over a payment and closed won or lost. Each changes the sandbox's ledger and
// sends the event Stripe would send, signed with the sandbox's webhook secret, through
// POST /v1/webhooks/stripe: the purchase learns it exactly as it learns Stripe's. A sandbox
// key is required, and the payment must be one of the merchant's sandbox payments.

// settleInput is the body of POST /v1/sandbox/transactions/{ref}/settle.
type settleInput struct {
	Outcome     string `json:"outcome"`               // succeeded or failed
	FailureCode string `json:"failureCode,omitempty"` // for failed: card_declined by default
}

// closeDisputeInput is the body of POST /v1/sandbox/transactions/{ref}/dispute/close.
type closeDisputeInput struct {
	Outcome string `json:"outcome"` // won or lost
}

// sandboxOutcome answers the sandbox-only routes: the event sent and, for disputes, the dispute.
type sandboxOutcome struct {
	Transaction string           `json:"transactionRef"`
	PaymentRef  string           `json:"processorRef"`
	Event       string           `json:"event"` // the Stripe event type sent to the webhook handler
	Dispute     *sandbox.Dispute `json:"dispute,omitempty"`
}

// sandboxPayment loads the request's sandbox payment and the sandbox processor.
func (s *Server) sandboxPayment(r *http.Request) (domain.Transaction, *sandbox.Processor, error) {
	if !keyOf(r).Sandbox() {
		return domain.Transaction{}, nil, domain.Errorf(domain.CodeInvalidField, "", "this route works with sandbox keys only")
	}
	t, err := s.store.GetTransaction(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return t, nil, err
	}
	if t.Kind != domain.TxnPayment || t.Processor != "sandbox" || t.ProcessorRef == "" || t.PurchaseRef == "" {
		return t, nil, domain.Errorf(domain.CodeInvalidField, "ref", "transaction %s is not a sandbox payment of a purchase", t.Ref)
	}
	p, err := s.modes.For(true)
	if err != nil {
		return t, nil, err
	}
	sb, ok := p.(*sandbox.Processor)
	if !ok {
		return t, nil, domain.Errorf(domain.CodeUnavailable, "", "the sandbox processor is not configured on this server")
	}
	return t, sb, nil
}

// sandboxRefusal turns the sandbox's refusal (a charge in another state) into a 409.
func sandboxRefusal(err error) error {
	if d, ok := payments.IsDecline(err); ok {
		return domain.Errorf(domain.CodeConflict, "", "%s", d.Message)
	}
	return err
}

func (s *Server) settleSandboxPayment(w http.ResponseWriter, r *http.Request) error {
	var in settleInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Outcome != payments.PaymentSucceeded && in.Outcome != payments.PaymentFailed {
		return domain.Errorf(domain.CodeInvalidField, "outcome", "outcome must be succeeded or failed")
	}
	if in.FailureCode != "" && (in.Outcome != payments.PaymentFailed || len(in.FailureCode) > 64) {
		return domain.Errorf(domain.CodeInvalidField, "failureCode", "failureCode (at most 64 characters) goes with outcome failed")
	}
	// a bank asks for authentication when it is asked to pay, never after accepting the payment
	// as processing; and a payment failed that way may still succeed later, its void invoice then
	// on a paid charge
	if in.FailureCode == payments.CodeAuthenticationRequired {
		return domain.Errorf(domain.CodeInvalidField, "failureCode", "a processing payment cannot fail with "+
			"authentication_required: banks ask for authentication before they accept a payment (use a 3-D Secure test card)")
	}
	t, sb, err := s.sandboxPayment(r)
	if err != nil {
		return err
	}
	ev, err := sb.Settle(r.Context(), t.ProcessorRef, in.Outcome == payments.PaymentSucceeded, in.FailureCode)
	if err != nil {
		return sandboxRefusal(err)
	}
	return s.sendSandboxEvent(w, r, t, ev, nil)
}

func (s *Server) openSandboxDispute(w http.ResponseWriter, r *http.Request) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	t, sb, err := s.sandboxPayment(r)
	if err != nil {
		return err
	}
	d, ev, err := sb.OpenDispute(r.Context(), t.ProcessorRef)
	if err != nil {
		return sandboxRefusal(err)
	}
	return s.sendSandboxEvent(w, r, t, ev, &d)
}

func (s *Server) closeSandboxDispute(w http.ResponseWriter, r *http.Request) error {
	var in closeDisputeInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Outcome != sandbox.DisputeWon && in.Outcome != sandbox.DisputeLost {
		return domain.Errorf(domain.CodeInvalidField, "outcome", "outcome must be won or lost")
	}
	t, sb, err := s.sandboxPayment(r)
	if err != nil {
		return err
	}
	d, ev, err := sb.CloseDispute(r.Context(), t.ProcessorRef, in.Outcome == sandbox.DisputeWon)
	if err != nil {
		return sandboxRefusal(err)
	}
	return s.sendSandboxEvent(w, r, t, ev, &d)
}

// sendSandboxEvent sends the sandbox's event through this server's webhook handler, signed with
// the sandbox's secret; a server without that secret tells the purchase directly.
func (s *Server) sendSandboxEvent(w http.ResponseWriter, r *http.Request, t domain.Transaction, ev sandbox.Event, d *sandbox.Dispute) error {
	ctx := r.Context()
	if s.cfg.SandboxWebhookSecret != "" {
		hooks := sandbox.Webhooks{Secret: s.cfg.SandboxWebhookSecret, Handler: s}
		if err := hooks.Send(ctx, ev); err != nil {
			return err
		}
	} else {
		c, err := s.lifecycle()
		if err != nil {
			return err
		}
		if err := c.PaymentChanged(ctx, t.MerchantRef, t.PurchaseRef, t.ProcessorRef); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, sandboxOutcome{Transaction: t.Ref, PaymentRef: t.ProcessorRef, Event: ev.Type, Dispute: d})
	return nil
}

var _ = document(
	op{Route: "POST /v1/sandbox/transactions/{ref}/settle", Tag: "sandbox",
		Summary: "Sandbox only: settle a processing payment (the sandbox's card 4000 0000 0000 7726) succeeded or failed; sends payment_intent.succeeded or .payment_failed through the webhook handler",
		Body:    settleInput{}, Required: []string{"outcome"}, Out: sandboxOutcome{}},
	op{Route: "POST /v1/sandbox/transactions/{ref}/dispute", Tag: "sandbox",
		Summary: "Sandbox only: open a dispute (fraudulent, the whole amount) over a succeeded payment; sends charge.dispute.created through the webhook handler. A payment has at most one dispute",
		Out:     sandboxOutcome{}},
	op{Route: "POST /v1/sandbox/transactions/{ref}/dispute/close", Tag: "sandbox",
		Summary: "Sandbox only: close the payment's dispute won or lost; sends charge.dispute.closed through the webhook handler",
		Body:    closeDisputeInput{}, Required: []string{"outcome"}, Out: sandboxOutcome{}},
)
