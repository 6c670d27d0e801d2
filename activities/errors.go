package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/workflows"
)

// This file is the one place where processor and domain errors become Temporal errors: which
// failures are final (non-retryable, with a named type the workflow reads) and which retry.

// declineTypes names the processor's decline codes as activity error types.
var declineTypes = map[string]string{
	"card_declined":                     workflows.ErrTypeCardDeclined,
	"insufficient_funds":                workflows.ErrTypeInsufficientFunds,
	"invalid_request":                   workflows.ErrTypeInvalidRequest,
	"payment_method_missing":            workflows.ErrTypePaymentMethodMissing,
	payments.CodeAuthenticationRequired: workflows.ErrTypeAuthenticationRequired,
}

// declineError is a card decline or invalid request: retrying the same call cannot succeed.
func declineError(d *payments.DeclineError, txnRef, processorRef string, amount int64) error {
	typ, ok := declineTypes[d.Code]
	if !ok {
		typ = workflows.ErrTypePaymentDeclined
	}
	return temporal.NewNonRetryableApplicationError(d.Message, typ, d,
		workflows.ChargeFailure{TxnRef: txnRef, Code: d.Code, Message: d.Message, ProcessorRef: processorRef, Amount: amount})
}

// chargeKind is what a failed charge means for the purchase.
type chargeKind int

const (
	// chargeDeclined: the customer's card or bank said no. Final; the purchase goes to dunning.
	chargeDeclined chargeKind = iota
	// chargeFault: ours or the processor's to fix — a rejected key or account (401, 403), a
	// request the processor finds malformed, a key reused with other parameters. Never the
	// customer's: the purchase keeps its state and the charge is tried again later.
	chargeFault
	// chargeUnknown: no answer, or a 5xx — money may have moved. The next attempt looks the
	// charge up before charging.
	chargeUnknown
)

func (k chargeKind) String() string {
	return [...]string{"declined", "fault", "unknown"}[k]
}

// classifyCharge sorts a charge's error into one of the three kinds; this is the only place
// that decides whether a failure is the customer's.
func classifyCharge(err error) (chargeKind, *payments.DeclineError) {
	var pe *payments.ProcessorError
	switch d, ok := payments.IsDecline(err); {
	case ok && d.Code == "invalid_request":
		return chargeFault, nil
	case ok:
		return chargeDeclined, d
	case errors.Is(err, payments.ErrIdempotencyMismatch), domain.AsError(err) != nil:
		return chargeFault, nil
	case errors.As(err, &pe) && pe.IsConfiguration():
		return chargeFault, nil
	}
	return chargeUnknown, nil
}

// retryableChargeError names a charge failure that Temporal retries (with the lookup first).
func retryableChargeError(kind chargeKind, err error) error {
	typ := workflows.ErrTypeChargeUnknown
	if kind == chargeFault {
		typ = workflows.ErrTypeProcessorFault
	}
	return temporal.NewApplicationErrorWithCause(err.Error(), typ, err)
}

// temporalError makes final what retrying cannot fix; everything else (network faults, a
// Postgres restart) is returned as is and retried by Temporal.
func temporalError(err error) error {
	if err == nil {
		return nil
	}
	if d, ok := payments.IsDecline(err); ok {
		return declineError(d, "", "", 0)
	}
	if errors.Is(err, payments.ErrIdempotencyMismatch) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeIdempotencyMismatch, err)
	}
	if e := domain.AsError(err); e != nil {
		switch e.Code {
		case domain.CodeNotFound:
			return temporal.NewNonRetryableApplicationError(e.Message, workflows.ErrTypeNotFound, err)
		case domain.CodeInvalidField, domain.CodeMissingField, domain.CodeConflict, domain.CodeRefundWindowClosed:
			// the field travels as the detail, so the workflow's refusal names it (refundRefusal)
			return temporal.NewNonRetryableApplicationError(e.Message, string(e.Code), err, e.Field)
		}
	}
	return err
}
