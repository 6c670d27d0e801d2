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
	"card_declined":          workflows.ErrTypeCardDeclined,
	"insufficient_funds":     workflows.ErrTypeInsufficientFunds,
	"invalid_request":        workflows.ErrTypeInvalidRequest,
	"payment_method_missing": workflows.ErrTypePaymentMethodMissing,
}

// declineError is a card decline or invalid request: retrying the same call cannot succeed.
func declineError(d *payments.DeclineError, txnRef string) error {
	typ, ok := declineTypes[d.Code]
	if !ok {
		typ = workflows.ErrTypePaymentDeclined
	}
	return temporal.NewNonRetryableApplicationError(d.Message, typ, d,
		workflows.ChargeFailure{TxnRef: txnRef, Code: d.Code, Message: d.Message})
}

// temporalError makes final what retrying cannot fix; everything else (network faults, a
// Postgres restart) is returned as is and retried by Temporal.
func temporalError(err error) error {
	if err == nil {
		return nil
	}
	if d, ok := payments.IsDecline(err); ok {
		return declineError(d, "")
	}
	if errors.Is(err, payments.ErrIdempotencyMismatch) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeIdempotencyMismatch, err)
	}
	if e := domain.AsError(err); e != nil {
		switch e.Code {
		case domain.CodeNotFound:
			return temporal.NewNonRetryableApplicationError(e.Message, workflows.ErrTypeNotFound, err)
		case domain.CodeInvalidField, domain.CodeMissingField, domain.CodeConflict:
			return temporal.NewNonRetryableApplicationError(e.Message, string(e.Code), err)
		}
	}
	return err
}
