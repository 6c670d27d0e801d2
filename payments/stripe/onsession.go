package stripe

import (
	"context"
	"errors"
	"maps"
	"strings"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

var _ payments.SessionConfirmer = (*Processor)(nil)

// ConfirmOnSession confirms a card SetupIntent for off-session use with the customer present,
// at checkout. When the bank asks for 3-D Secure the answer is AuthenticationPending with the
// client secret, and Stripe.js completes it in the customer's browser. Stripe's idempotency key
// is ours with /setup after it.
func (p *Processor) ConfirmOnSession(ctx context.Context, in payments.OnSessionInput) (payments.OnSessionResult, error) {
	if in.IdempotencyKey == "" || in.ProcessorCustomerID == "" || in.PaymentMethod == "" {
		return payments.OnSessionResult{}, invalid("a setup needs an idempotency key, a customer and a payment method")
	}
	metadata := map[string]string{metadataKey: in.IdempotencyKey}
	maps.Copy(metadata, in.Metadata)
	params := &stripego.SetupIntentParams{
		Customer:           stripego.String(in.ProcessorCustomerID),
		PaymentMethod:      stripego.String(in.PaymentMethod),
		PaymentMethodTypes: stripego.StringSlice([]string{"card"}),
		Usage:              stripego.String(string(stripego.SetupIntentUsageOffSession)),
		Confirm:            stripego.Bool(true),
		Metadata:           metadata,
	}
	params.Context = ctx
	params.IdempotencyKey = stripego.String(in.IdempotencyKey + "/setup")
	si, err := p.api.SetupIntents.New(params)
	if err != nil {
		var se *stripego.Error
		if errors.As(err, &se) && se.SetupIntent != nil && se.Type == stripego.ErrorTypeCard {
			return payments.OnSessionResult{Ref: se.SetupIntent.ID, Status: payments.PaymentFailed,
				FailureCode: declineCode(se), Message: se.Msg}, nil
		}
		return payments.OnSessionResult{}, mapError("set up card", err)
	}
	return setupOutcome(si), nil
}

// OnSessionOutcome refetches a SetupIntent (seti_…).
func (p *Processor) OnSessionOutcome(ctx context.Context, ref string) (payments.OnSessionResult, error) {
	if !strings.HasPrefix(ref, "seti_") {
		return payments.OnSessionResult{}, invalid("not a SetupIntent: %q", ref)
	}
	params := &stripego.SetupIntentParams{}
	params.Context = ctx
	si, err := p.api.SetupIntents.Get(ref, params)
	if err != nil {
		return payments.OnSessionResult{}, lookupError("read setup", err)
	}
	return setupOutcome(si), nil
}

// setupOutcome reads a SetupIntent confirmed on session.
func setupOutcome(si *stripego.SetupIntent) payments.OnSessionResult {
	out := payments.OnSessionResult{Ref: si.ID, ClientSecret: si.ClientSecret}
	switch si.Status {
	case stripego.SetupIntentStatusSucceeded:
		out.Status = payments.PaymentSucceeded
	case stripego.SetupIntentStatusProcessing:
		out.Status = payments.PaymentProcessing
	case stripego.SetupIntentStatusRequiresAction, stripego.SetupIntentStatusRequiresConfirmation:
		out.Status = payments.AuthenticationPending
	default:
		out.Status, out.FailureCode = payments.PaymentFailed, declineCode(si.LastSetupError)
		out.Message = "Your card could not be set up."
		if e := si.LastSetupError; e != nil && e.Msg != "" {
			out.Message = e.Msg
		}
	}
	return out
}
