// Package domain holds Tollgate's domain types and its one error type. It does no I/O, so the
// workflow package may import it.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, documented error code. API clients switch on it; never rename one.
type Code string

const (
	CodeInvalidField    Code = "INVALID_FIELD"
	CodeMissingField    Code = "MISSING_FIELD"
	CodeNotFound        Code = "RESOURCE_NOT_FOUND"
	CodeAlreadyExists   Code = "RESOURCE_ALREADY_EXISTS"
	CodeUnauthorised    Code = "UNAUTHORISED"
	CodeForbidden       Code = "FORBIDDEN" // the key is valid but may not do this (a read-only key's write)
	CodePaymentRequired Code = "PAYMENT_REQUIRED"
	CodeConflict        Code = "CONFLICT"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeUnavailable     Code = "SERVICE_UNAVAILABLE"
	CodeInternal        Code = "INTERNAL"
	// CodeRefundWindowClosed: the payment is older than the processor refunds (RefundWindow).
	CodeRefundWindowClosed Code = "REFUND_WINDOW_CLOSED"
)

// Error is the one error type that crosses package boundaries. Field names the offending input
// field (JSON name) when there is one.
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an *Error. field may be empty.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the answer for a missing object and for another merchant's object alike.
func NotFound(kind, ref string) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %q not found", kind, ref)}
}

// RefundWindowClosed refuses a refund of a payment made (on the purchase's clock) more than
// RefundWindow ago: the processor no longer refunds it.
func RefundWindowClosed(paymentRef string, paidAt time.Time) *Error {
	return Errorf(CodeRefundWindowClosed, "sourceTransactionRef",
		"payment %s was made on %s, more than %d days ago: the processor no longer refunds it",
		paymentRef, paidAt.UTC().Format("2006-01-02"), int(RefundWindow/(24*time.Hour)))
}

// ErrorCode returns the code of the first *Error in err's chain, or INTERNAL.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
