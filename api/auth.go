package api

import (
	"context"
	"net/http"
	"strings"

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
		k, err := s.authenticate(r.Context(), key)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		ctx := domain.WithMode(context.WithValue(r.Context(), merchantKey, k), k.Mode) // events of modeless objects
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
