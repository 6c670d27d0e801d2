package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// idempotent replays the first response to a POST carrying an Idempotency-Key: the same key and
// body get the same answer, the same key with another body gets 409. Responses of 5xx are not
// remembered, so a retry after our failure runs again.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			writeError(w, r, s.log, domain.Errorf(domain.CodeInvalidField, "Idempotency-Key", "Idempotency-Key must be at most 255 characters"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, r, s.log, domain.Errorf(domain.CodeInvalidField, "body", "request body is larger than %d bytes", maxBody))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		merchant := merchantOf(r)
		prev, err := s.store.BeginIdempotent(r.Context(), merchant, key, r.Method, r.URL.Path, hash)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if prev != nil {
			s.replay(w, r, prev.RequestHash, hash, prev.StatusCode, prev.Body)
			return
		}
		rec := &capture{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		// finish even if the client went away: the work is done and must replay
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if rec.status >= 500 {
			_ = s.store.ReleaseIdempotent(ctx, merchant, key)
			return
		}
		if err := s.store.FinishIdempotent(ctx, merchant, key, rec.status, rec.buf.Bytes()); err != nil {
			s.logFor(r).Error("store idempotent response", "err", err)
		}
	})
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request, prevHash, hash []byte, status *int, body []byte) {
	switch {
	case !bytes.Equal(prevHash, hash):
		writeError(w, r, s.log, domain.Errorf(domain.CodeConflict, "Idempotency-Key",
			"this Idempotency-Key was already used with a different request; use a new key"))
	case status == nil:
		retryAfter(w, 1)
		writeError(w, r, s.log, domain.Errorf(domain.CodeConflict, "Idempotency-Key",
			"a request with this Idempotency-Key is still in progress; retry shortly"))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(*status)
		_, _ = w.Write(body)
	}
}

// capture records what a handler writes while passing it through.
type capture struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}
