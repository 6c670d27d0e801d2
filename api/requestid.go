package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
)

// RequestIDHeader carries a request's id: a caller's (or its proxy's) sane value is kept,
// otherwise the server makes one (req_…); every answer echoes it, every error body carries it
// as requestId and every log line of the request as requestId.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an incoming request id; a longer one is replaced.
const maxRequestIDLen = 128

// requestIDOf is r's incoming X-Request-Id when it is sane — 1 to 128 letters, digits and
// . _ : - (nothing a log line or a header could be forged with) — else a new req_… reference.
func requestIDOf(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); saneRequestID(id) {
		return id
	}
	return domain.NewRef("req")
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// withRequestID gives r its request id (the one it already carries when the API calls itself
// in-process, as MCP does) and echoes it in the answer's X-Request-Id.
func withRequestID(w http.ResponseWriter, r *http.Request) *http.Request {
	id := telemetry.RequestID(r.Context())
	if id == "" {
		id = requestIDOf(r)
		r = r.WithContext(telemetry.WithRequestID(r.Context(), id))
	}
	w.Header().Set(RequestIDHeader, id)
	return r
}
