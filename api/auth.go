package api

import (
	"context"
	"math"
	"net/http"
	"strings"

	"golang.org/x/time/rate"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

type ctxKey int

const merchantKey ctxKey = iota

// authenticated resolves X-API-KEY or Authorization: Bearer to a merchant. Everything a handler
// reads or writes is scoped to that merchant.
func (s *Server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := APIKeyFrom(r)
		if key == "" {
			writeError(w, r, s.log, domain.Errorf(domain.CodeUnauthorised, "X-API-KEY", "missing API key: send X-API-KEY or Authorization: Bearer"))
			return
		}
		k, hash, err := s.authenticate(r.Context(), key)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		st := s.stateOf(hash)
		if s.rateLimit.on && !st.lim.Allow() {
			retryAfter(w, s.rateLimit.retryAfter)
			writeError(w, r, s.log, domain.Errorf(domain.CodeRateLimited, "", "too many requests with this API key: at most %g a second (burst %d); retry after the Retry-After header's seconds",
				float64(s.rateLimit.Rate), s.rateLimit.Burst))
			return
		}
		if k.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			writeError(w, r, s.log, domain.Errorf(domain.CodeForbidden, "X-API-KEY", "this API key is read-only: it may not %s; use a key that may write", r.Method))
			return
		}
		s.touch(st, hash)
		ctx := domain.WithMode(context.WithValue(r.Context(), merchantKey, k), k.Mode) // events of modeless objects
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Default per-key rate limit: generous, so that only a runaway client meets it.
const (
	DefaultKeyRate  = 1000 // requests a second per key, per API server
	defaultKeyBurst = 2    // the burst is this many seconds' worth by default
)

// keyRateLimit is the per-key token bucket's settings (Config.KeyRate, Config.KeyBurst).
type keyRateLimit struct {
	on         bool
	Rate       rate.Limit
	Burst      int
	retryAfter int // seconds until a token is back, rounded up
}

func newKeyRateLimit(perSecond float64, burst int) keyRateLimit {
	if perSecond < 0 {
		return keyRateLimit{Rate: rate.Inf}
	}
	if perSecond == 0 {
		perSecond = DefaultKeyRate
	}
	if burst <= 0 {
		burst = int(math.Ceil(perSecond * defaultKeyBurst))
	}
	return keyRateLimit{on: true, Rate: rate.Limit(perSecond), Burst: burst, retryAfter: int(math.Ceil(1 / perSecond))}
}

// APIKeyFrom reads the key from X-API-KEY or a Bearer token.
func APIKeyFrom(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("X-API-KEY")); k != "" {
		return k
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// merchantOf is the authenticated merchant's reference.
func merchantOf(r *http.Request) string { return keyOf(r).MerchantRef }

func keyOf(r *http.Request) store.APIKey {
	k, _ := r.Context().Value(merchantKey).(store.APIKey)
	return k
}
