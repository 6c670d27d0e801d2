package sandbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/tollgate-billing/tollgate/payments"
)

// codeAuthenticationFailed is Stripe's code for a payment whose authentication the customer
// failed (or refused); the payment can be authenticated again.
const codeAuthenticationFailed = "payment_intent_authentication_failure"

// Authenticate is the customer's answer on the sandbox's authentication page, which stands in
// for the bank's 3-D Secure page, for a charge that asked (authentication_required). Approved,
// the same charge succeeds: money moves now, never under a second charge. Refused, it fails with
// payment_intent_authentication_failure and can be authenticated again, as a PaymentIntent can.
// It answers the event Stripe would send (payment_intent.succeeded or .payment_failed); a
// charge already succeeded answers its event again and changes nothing.
func (p *Processor) Authenticate(ctx context.Context, chargeID string, approve bool) (Event, error) {
	status, code, msg := payments.PaymentFailed, codeAuthenticationFailed, "The customer did not authenticate the payment."
	if approve {
		status, code, msg = payments.PaymentSucceeded, "", ""
	}
	_, err := p.pool.Exec(ctx, `UPDATE sandbox_charges SET status = $2, failure_code = $3, failure_message = $4
		WHERE id = $1 AND status = 'failed' AND failure_code IN ($5, $6)`,
		chargeID, status, code, msg, payments.CodeAuthenticationRequired, codeAuthenticationFailed)
	if err != nil {
		return Event{}, fmt.Errorf("sandbox: authenticate: %w", err)
	}
	c, err := p.chargeOf(ctx, chargeID)
	if err != nil {
		return Event{}, err
	}
	if c.status != payments.PaymentSucceeded && c.failureCode != codeAuthenticationFailed && c.failureCode != payments.CodeAuthenticationRequired {
		return Event{}, invalid("charge %s does not ask for authentication", chargeID)
	}
	return c.event(), nil
}

var _ payments.Authenticator = (*Processor)(nil)

// PaymentAuthentication answers whether a charge waits for authentication, succeeded, or failed
// otherwise; the sandbox's page completes it with Authenticate.
func (p *Processor) PaymentAuthentication(ctx context.Context, chargeID string) (payments.AuthenticationFacts, error) {
	c, err := p.chargeOf(ctx, chargeID)
	if err != nil {
		return payments.AuthenticationFacts{}, err
	}
	facts := payments.AuthenticationFacts{Status: payments.PaymentFailed, PaymentMethod: c.paymentMethod}
	switch {
	case c.status == payments.PaymentSucceeded:
		facts.Status = payments.PaymentSucceeded
	case c.failureCode == payments.CodeAuthenticationRequired || c.failureCode == codeAuthenticationFailed:
		facts.Status = payments.AuthenticationPending
	}
	return facts, nil
}

// event is the payment_intent.* event Stripe sends about a payment in this state.
func (c chargeRow) event() Event {
	obj := map[string]any{"id": c.id, "object": "payment_intent", "amount": c.amount,
		"currency": strings.ToLower(c.currency), "status": c.status,
		"metadata": map[string]string{"tollgate_idempotency_key": c.key}}
	if c.status == payments.PaymentSucceeded {
		return Event{Type: "payment_intent.succeeded", Object: obj}
	}
	obj["status"] = "requires_payment_method"
	obj["last_payment_error"] = map[string]string{"code": c.failureCode, "message": c.failureMessage}
	return Event{Type: "payment_intent.payment_failed", Object: obj}
}
