package stripe

import (
	"context"
	"errors"
	"strings"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

var _ payments.PaymentLookup = (*Processor)(nil)

// lookupScan bounds the refunds and disputes of one payment that LookupPayment reads.
const lookupScan = 100

// LookupPayment refetches a PaymentIntent (pi_…), or the PaymentIntent of a charge (ch_…), with
// its refunds and disputes: three reads from Stripe's own records (four from a charge).
func (p *Processor) LookupPayment(ctx context.Context, ref string) (payments.PaymentFacts, error) {
	if strings.HasPrefix(ref, "ch_") || strings.HasPrefix(ref, "py_") {
		params := &stripego.ChargeParams{}
		params.Context = ctx
		ch, err := p.api.Charges.Get(ref, params)
		if err != nil {
			return payments.PaymentFacts{}, lookupError("look up charge", err)
		}
		if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
			return payments.PaymentFacts{}, &payments.DeclineError{Code: "resource_missing",
				Message: "charge " + ref + " has no PaymentIntent: Tollgate did not make it"}
		}
		ref = ch.PaymentIntent.ID
	}
	if !strings.HasPrefix(ref, "pi_") {
		return payments.PaymentFacts{}, &payments.DeclineError{Code: "resource_missing", Message: "not a Stripe payment: " + ref}
	}
	params := &stripego.PaymentIntentParams{}
	params.Context = ctx
	pi, err := p.api.PaymentIntents.Get(ref, params)
	if err != nil {
		return payments.PaymentFacts{}, lookupError("look up payment", err)
	}
	facts := paymentFacts(pi)
	if facts.Refunds, err = p.refundsOf(ctx, pi.ID); err != nil {
		return payments.PaymentFacts{}, err
	}

	dl := &stripego.DisputeListParams{PaymentIntent: stripego.String(pi.ID)}
	dl.Context = ctx
	dl.Limit = stripego.Int64(lookupScan)
	dit := p.api.Disputes.List(dl)
	for n := 0; n < lookupScan && dit.Next(); n++ {
		d := dit.Dispute()
		facts.Disputes = append(facts.Disputes, payments.DisputeFacts{ID: d.ID, Amount: d.Amount, Status: string(d.Status)})
	}
	if err := dit.Err(); err != nil {
		return payments.PaymentFacts{}, lookupError("list disputes", err)
	}
	return facts, nil
}

// paymentFacts reads a PaymentIntent as PaymentFacts, without its refunds and disputes.
func paymentFacts(pi *stripego.PaymentIntent) payments.PaymentFacts {
	facts := payments.PaymentFacts{PaymentRef: pi.ID, Amount: pi.Amount, Currency: strings.ToUpper(string(pi.Currency)),
		Key: pi.Metadata[metadataKey]}
	switch pi.Status {
	case stripego.PaymentIntentStatusSucceeded:
		facts.Status = payments.PaymentSucceeded
	case stripego.PaymentIntentStatusProcessing:
		facts.Status = payments.PaymentProcessing
	case stripego.PaymentIntentStatusCanceled, stripego.PaymentIntentStatusRequiresPaymentMethod:
		// after a confirmation, back to requires_payment_method is how Stripe says it failed
		facts.Status, facts.FailureCode = payments.PaymentFailed, declineCode(pi.LastPaymentError)
	default:
		facts.Status = string(pi.Status)
	}
	return facts
}

// refundsOf lists the refunds of a PaymentIntent (at most lookupScan).
func (p *Processor) refundsOf(ctx context.Context, paymentIntent string) ([]payments.RefundFacts, error) {
	rl := &stripego.RefundListParams{PaymentIntent: stripego.String(paymentIntent)}
	rl.Context = ctx
	rl.Limit = stripego.Int64(lookupScan)
	rit := p.api.Refunds.List(rl)
	var out []payments.RefundFacts
	for n := 0; n < lookupScan && rit.Next(); n++ {
		r := rit.Refund()
		out = append(out, payments.RefundFacts{ID: r.ID, Amount: r.Amount, Status: string(r.Status),
			Key: r.Metadata[metadataKey]})
	}
	if err := rit.Err(); err != nil {
		return nil, lookupError("list refunds", err)
	}
	return out, nil
}

// lookupError is mapError, with an object Stripe does not have as resource_missing.
func lookupError(op string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) && se.Code == stripego.ErrorCodeResourceMissing {
		return &payments.DeclineError{Code: "resource_missing", Message: se.Msg}
	}
	return mapError(op, err)
}
