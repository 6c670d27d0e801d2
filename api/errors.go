package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
)

// errorBody is the one JSON error shape of DESIGN.md: {"error":{"type","code","message","field"}},
// with the request's id (the X-Request-Id answered) as requestId.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RequestID is the request's id, as in the X-Request-Id response header and the request's
	// log lines: what to quote to an operator.
	RequestID string `json:"requestId,omitempty"`
}

// errorDetailOf is e in the error shape, for request r.
func errorDetailOf(r *http.Request, e *domain.Error) errorDetail {
	return errorDetail{Type: typeOf(e.Code), Code: string(e.Code), Message: e.Message, Field: e.Field,
		RequestID: telemetry.RequestID(r.Context())}
}

// statusOf is the one mapping from domain error codes to HTTP status.
func statusOf(code domain.Code) int {
	switch code {
	case domain.CodeInvalidField, domain.CodeMissingField:
		return http.StatusBadRequest
	case domain.CodeUnauthorised:
		return http.StatusUnauthorized
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodePaymentRequired:
		return http.StatusPaymentRequired
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeAlreadyExists, domain.CodeConflict, domain.CodeRefundWindowClosed:
		return http.StatusConflict
	case domain.CodeRateLimited:
		return http.StatusTooManyRequests
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// typeOf groups codes the way clients branch on them.
func typeOf(code domain.Code) string {
	switch code {
	case domain.CodeInvalidField, domain.CodeMissingField:
		return "invalid_request_error"
	case domain.CodeUnauthorised:
		return "authentication_error"
	case domain.CodeForbidden:
		return "permission_error"
	case domain.CodeNotFound:
		return "not_found_error"
	case domain.CodeAlreadyExists, domain.CodeConflict, domain.CodeRefundWindowClosed:
		return "conflict_error"
	case domain.CodePaymentRequired:
		return "payment_error"
	case domain.CodeRateLimited:
		return "rate_limit_error"
	default:
		return "api_error"
	}
}

// writeError answers err in the one error shape. Errors that are not *domain.Error are logged
// and answered as INTERNAL without their text (no leaks); an unreachable database is 503.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := domain.AsError(err)
	if e == nil {
		if isUnavailable(err) {
			e = domain.Errorf(domain.CodeUnavailable, "", "the service is briefly unavailable; retry shortly")
		} else {
			log.With(telemetry.LogAttrs(r.Context())...).Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
			e = domain.Errorf(domain.CodeInternal, "", "internal error")
		}
	}
	if e.Code == domain.CodeUnavailable && w.Header().Get("Retry-After") == "" {
		retryAfter(w, 1)
	}
	writeJSON(w, statusOf(e.Code), errorBody{Error: errorDetailOf(r, e)})
}

// StatusOf is exposed for other faces (MCP) that need the same mapping.
func StatusOf(code domain.Code) int { return statusOf(code) }

// retryAfter sets Retry-After in seconds.
func retryAfter(w http.ResponseWriter, seconds int) {
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
}

func isUnavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || isConnError(err)
}
