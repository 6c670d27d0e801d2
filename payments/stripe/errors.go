package stripe

import (
	"errors"
	"fmt"
	"net/http"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

// mapError sorts Stripe's answers into the two kinds the workflows act on: a *DeclineError
// (card declined, invalid request: the same call can never succeed, so never retry it) and
// everything else (network, rate limit, Stripe's own faults, our configuration), returned
// wrapped so the activity retries it with the same idempotency key.
func mapError(op string, err error) error {
	var se *stripego.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("stripe: %s: %w", op, err)
	}
	switch {
	case se.Type == stripego.ErrorTypeIdempotency:
		return fmt.Errorf("stripe: %s: %s: %w", op, se.Msg, payments.ErrIdempotencyMismatch)
	case se.HTTPStatusCode == http.StatusTooManyRequests, // rate limited
		se.HTTPStatusCode == http.StatusConflict, // lock_timeout: a concurrent call with the same key or object
		se.HTTPStatusCode >= 500,
		se.HTTPStatusCode == http.StatusUnauthorized, // a bad key is ours to fix, not the customer's decline
		se.HTTPStatusCode == http.StatusForbidden:
		return fmt.Errorf("stripe: %s: %w: %w", op, &payments.ProcessorError{Status: se.HTTPStatusCode, Message: se.Msg}, err)
	case se.Type == stripego.ErrorTypeCard:
		return &payments.DeclineError{Code: declineCode(se), Message: se.Msg}
	case se.Type == stripego.ErrorTypeInvalidRequest && se.Code == stripego.ErrorCodeResourceMissing && se.Param == "payment_method":
		// the customer's card was removed at Stripe: the customer's to fix, like a decline
		return &payments.DeclineError{Code: "payment_method_missing", Message: se.Msg}
	case se.Type == stripego.ErrorTypeInvalidRequest && string(se.Code) == payments.CodeChargeExpiredForRefund:
		// a refund past Stripe's window (180 days for cards): final, and told apart from our faults
		return &payments.DeclineError{Code: payments.CodeChargeExpiredForRefund, Message: se.Msg}
	case se.Type == stripego.ErrorTypeInvalidRequest:
		msg := se.Msg
		if se.Code != "" {
			msg = fmt.Sprintf("%s (%s)", msg, se.Code)
		}
		return &payments.DeclineError{Code: "invalid_request", Message: msg}
	}
	return fmt.Errorf("stripe: %s: %s: %w", op, se.Msg, err)
}

// declineCode names a failed payment's error as the workflows read it: the bank's decline code,
// else Stripe's error code, else card_declined (also for no error at all).
func declineCode(e *stripego.Error) string {
	switch {
	case e == nil:
	case e.DeclineCode != "":
		return string(e.DeclineCode)
	case e.Code != "":
		return string(e.Code)
	}
	return "card_declined"
}
