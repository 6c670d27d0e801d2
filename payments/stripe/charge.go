package stripe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

// Charge creates and confirms an off-session PaymentIntent. The idempotency key is always ours
// (stripe-go would otherwise make a random one per call, and a retried activity would charge
// twice). On a decline the ChargeResult carries the PaymentIntent id beside the *DeclineError.
func (p *Processor) Charge(ctx context.Context, in payments.ChargeInput) (payments.ChargeResult, error) {
	switch {
	case in.IdempotencyKey == "":
		return payments.ChargeResult{}, invalid("an idempotency key is required")
	case in.Amount <= 0:
		return payments.ChargeResult{}, invalid("amount must be positive, got %d", in.Amount)
	case len(in.Currency) != 3:
		return payments.ChargeResult{}, invalid("currency must be an ISO 4217 code, got %q", in.Currency)
	case in.ProcessorCustomerID == "" || in.PaymentMethod == "":
		return payments.ChargeResult{}, invalid("an off-session charge needs a customer and a payment method")
	}
	metadata := map[string]string{metadataKey: in.IdempotencyKey}
	maps.Copy(metadata, in.Metadata)
	params := &stripego.PaymentIntentParams{
		Amount:        stripego.Int64(in.Amount),
		Currency:      stripego.String(strings.ToLower(in.Currency)),
		Customer:      stripego.String(in.ProcessorCustomerID),
		PaymentMethod: stripego.String(in.PaymentMethod),
		// Card only: with automatic payment methods Stripe wants a return_url for redirects,
		// which an off-session renewal cannot follow.
		PaymentMethodTypes: stripego.StringSlice([]string{"card"}),
		Confirm:            stripego.Bool(true),
		OffSession:         stripego.Bool(true),
		Metadata:           metadata,
	}
	if in.Description != "" {
		params.Description = stripego.String(in.Description)
	}
	params.Context = ctx
	params.IdempotencyKey = stripego.String(in.IdempotencyKey)
	pi, err := p.api.PaymentIntents.New(params)
	if err != nil {
		res := payments.ChargeResult{Status: "failed"}
		var se *stripego.Error
		if errors.As(err, &se) && se.PaymentIntent != nil {
			res.ProcessorRef = se.PaymentIntent.ID
		}
		return res, mapError("charge", err)
	}
	return outcome(pi)
}

// outcome reads a PaymentIntent as the answer to a charge: its id, and a *DeclineError when it
// did not succeed.
func outcome(pi *stripego.PaymentIntent) (payments.ChargeResult, error) {
	res := payments.ChargeResult{ProcessorRef: pi.ID, Status: string(pi.Status)}
	switch pi.Status {
	case stripego.PaymentIntentStatusSucceeded, stripego.PaymentIntentStatusProcessing:
		// processing settles later and is reported by the payment_intent.* webhooks.
		return res, nil
	case stripego.PaymentIntentStatusRequiresAction:
		return res, &payments.DeclineError{Code: "authentication_required",
			Message: "The bank asks the customer to authenticate this payment."}
	}
	// Off-session confirmation normally reports a failure as a card_error; a PaymentIntent back
	// in requires_payment_method (or canceled) is the same failure reported as an object.
	d := &payments.DeclineError{Code: declineCode(pi.LastPaymentError),
		Message: fmt.Sprintf("The payment was not completed (status %s).", pi.Status)}
	if e := pi.LastPaymentError; e != nil && e.Msg != "" {
		d.Message = e.Msg
	}
	return res, d
}

// findChargeScan bounds how many of a customer's PaymentIntents, newest first, FindCharge reads.
const findChargeScan = 300

// FindCharge lists the customer's PaymentIntents, newest first, for the one whose metadata
// carries our key. The list is read from Stripe's own records (the search API lags by up to a
// minute, too late for a retry that follows a timeout). A PaymentIntent never confirmed moved
// no money and counts as not found.
func (p *Processor) FindCharge(ctx context.Context, in payments.FindChargeInput) (payments.ChargeResult, bool, error) {
	if in.IdempotencyKey == "" || in.ProcessorCustomerID == "" {
		return payments.ChargeResult{}, false, invalid("a key and a customer are required to find a charge")
	}
	params := &stripego.PaymentIntentListParams{Customer: stripego.String(in.ProcessorCustomerID)}
	params.Context = ctx
	params.Limit = stripego.Int64(100)
	it := p.api.PaymentIntents.List(params)
	for n := 0; n < findChargeScan && it.Next(); n++ {
		pi := it.PaymentIntent()
		if pi.Metadata[metadataKey] != in.IdempotencyKey ||
			pi.Status == stripego.PaymentIntentStatusRequiresConfirmation {
			continue
		}
		res, err := outcome(pi)
		return res, true, err
	}
	if err := it.Err(); err != nil {
		return payments.ChargeResult{}, false, mapError("find charge", err)
	}
	return payments.ChargeResult{}, false, nil
}

// refundReasons are the reasons Stripe accepts; anything else travels in metadata.
var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

// Refund refunds part or all of a PaymentIntent (pi_…) or charge (ch_…). Stripe itself refuses
// more than was paid; that refusal is an invalid request, so a *DeclineError.
func (p *Processor) Refund(ctx context.Context, in payments.RefundInput) (payments.RefundResult, error) {
	switch {
	case in.IdempotencyKey == "":
		return payments.RefundResult{}, invalid("an idempotency key is required")
	case in.Amount <= 0:
		return payments.RefundResult{}, invalid("refund amount must be positive, got %d", in.Amount)
	case in.ChargeRef == "":
		return payments.RefundResult{}, invalid("the payment to refund is required")
	}
	params := &stripego.RefundParams{
		Amount:   stripego.Int64(in.Amount),
		Metadata: map[string]string{metadataKey: in.IdempotencyKey},
	}
	if strings.HasPrefix(in.ChargeRef, "ch_") {
		params.Charge = stripego.String(in.ChargeRef)
	} else {
		params.PaymentIntent = stripego.String(in.ChargeRef)
	}
	if refundReasons[in.Reason] {
		params.Reason = stripego.String(in.Reason)
	} else if in.Reason != "" {
		params.Metadata["reason"] = in.Reason
	}
	params.Context = ctx
	params.IdempotencyKey = stripego.String(in.IdempotencyKey)
	r, err := p.api.Refunds.New(params)
	if err != nil {
		return payments.RefundResult{}, mapError("refund", err)
	}
	res := payments.RefundResult{ProcessorRef: r.ID, Status: string(r.Status)}
	switch r.Status {
	case stripego.RefundStatusFailed, stripego.RefundStatusCanceled:
		return res, &payments.DeclineError{Code: "refund_failed", Message: fmt.Sprintf("The refund %s.", r.Status)}
	}
	return res, nil
}

var _ payments.Authenticator = (*Processor)(nil)

// PaymentAuthentication reads a PaymentIntent for the page that completes it on session: one
// that still asks (requires_action, or back in requires_payment_method after an off-session
// authentication_required) is pending, with the client secret and card Stripe.js confirms it with.
func (p *Processor) PaymentAuthentication(ctx context.Context, ref string) (payments.AuthenticationFacts, error) {
	if !strings.HasPrefix(ref, "pi_") {
		return payments.AuthenticationFacts{}, invalid("not a PaymentIntent: %q", ref)
	}
	params := &stripego.PaymentIntentParams{}
	params.Context = ctx
	pi, err := p.api.PaymentIntents.Get(ref, params)
	if err != nil {
		return payments.AuthenticationFacts{}, mapError("read payment", err)
	}
	facts := payments.AuthenticationFacts{ClientSecret: pi.ClientSecret}
	switch {
	case pi.PaymentMethod != nil:
		facts.PaymentMethod = pi.PaymentMethod.ID
	case pi.LastPaymentError != nil && pi.LastPaymentError.PaymentMethod != nil:
		facts.PaymentMethod = pi.LastPaymentError.PaymentMethod.ID
	}
	switch pi.Status {
	case stripego.PaymentIntentStatusSucceeded:
		facts.Status = payments.PaymentSucceeded
	case stripego.PaymentIntentStatusProcessing:
		facts.Status = payments.PaymentProcessing
	case stripego.PaymentIntentStatusCanceled:
		facts.Status = payments.PaymentFailed
	default: // requires_action, requires_confirmation, requires_payment_method: the customer can complete it
		facts.Status = payments.AuthenticationPending
	}
	return facts, nil
}
