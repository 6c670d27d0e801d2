package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/store"
)

// The operator's admin API under /admin/v1: what `tollgate merchants` and `tollgate keys` do,
// over HTTP. It exists only when Config.AdminToken is set (otherwise every /admin path is the
// mux's 404) and takes that token as a Bearer token, never an API key.

func (s *Server) registerAdminRoutes() {
	if s.cfg.AdminToken == "" {
		return
	}
	s.handleAdmin("GET /admin/v1/merchants", s.adminListMerchants)
	s.handleAdmin("POST /admin/v1/merchants", s.adminCreateMerchant)
	s.handleAdmin("GET /admin/v1/merchants/{ref}", s.adminGetMerchant)
	s.handleAdmin("PATCH /admin/v1/merchants/{ref}", s.adminUpdateMerchant)
	s.handleAdmin("GET /admin/v1/merchants/{ref}/keys", s.adminListKeys)
	s.handleAdmin("POST /admin/v1/merchants/{ref}/keys", s.adminCreateKey)
	s.handleAdmin("POST /admin/v1/keys/{id}/revoke", s.adminRevokeKey)
	s.handleAdmin("POST /admin/v1/keys/{id}/rotate", s.adminRotateKey)
	s.handleAdmin("GET /admin/v1/merchants/{ref}/stripe", s.adminGetStripe)
	s.handleAdmin("PUT /admin/v1/merchants/{ref}/stripe", s.adminSetStripe)
	s.handleAdmin("DELETE /admin/v1/merchants/{ref}/stripe", s.adminRemoveStripe)
}

// AdminRoutes lists the admin API's patterns (none while it is off).
func (s *Server) AdminRoutes() []string { return append([]string(nil), s.adminRoutes...) }

func (s *Server) handleAdmin(pattern string, h func(http.ResponseWriter, *http.Request) error) {
	s.adminRoutes = append(s.adminRoutes, pattern)
	s.mux.Handle(pattern, s.adminOnly(s.errorsOf(h)))
}

// adminOnly lets through requests that carry the admin token (compared in constant time, on
// digests so that not even its length shows); others are 401 and logged, without what they sent.
func (s *Server) adminOnly(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := "", false
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			sum := sha256.Sum256([]byte(strings.TrimSpace(h[7:])))
			got, ok = "bearer", subtle.ConstantTimeCompare(sum[:], want[:]) == 1
		}
		if !ok {
			s.logFor(r).Warn("admin API: refused a request without the admin token", "method", r.Method, "path", r.URL.Path,
				"remote", r.RemoteAddr, "sent", map[bool]string{true: "a wrong token", false: "no token"}[got != ""])
			w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate-admin"`)
			writeError(w, r, s.log, domain.Errorf(domain.CodeUnauthorised, "Authorization", "the admin API needs Authorization: Bearer <TOLLGATE_ADMIN_TOKEN>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// onboarded is a new merchant with its first keys, whose secrets are shown this once.
type onboarded struct {
	Merchant store.Merchant `json:"merchant"`
	Keys     []store.NewKey `json:"keys"`
}

func (s *Server) adminListMerchants(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.store.ListMerchants(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": ms, "total": len(ms)})
	return nil
}

func (s *Server) adminCreateMerchant(w http.ResponseWriter, r *http.Request) error {
	var in store.MerchantPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Name == nil {
		return domain.Errorf(domain.CodeMissingField, "name", "name is required")
	}
	m, keys, err := s.store.OnboardMerchant(r.Context(), in)
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: merchant created", "merchant", m.Ref)
	writeJSON(w, http.StatusCreated, onboarded{Merchant: m, Keys: keys})
	return nil
}

func (s *Server) adminGetMerchant(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMerchant(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) adminUpdateMerchant(w http.ResponseWriter, r *http.Request) error {
	var in store.MerchantPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	m, err := s.store.UpdateMerchant(r.Context(), r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) adminListKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.store.ListAPIKeys(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": ks, "total": len(ks)})
	return nil
}

type keyInput struct {
	Mode     string `json:"mode"`
	Name     string `json:"name"`
	ReadOnly bool   `json:"readOnly"`
}

func (s *Server) adminCreateKey(w http.ResponseWriter, r *http.Request) error {
	var in keyInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	k, err := s.store.CreateAPIKey(r.Context(), r.PathValue("ref"), store.KeySpec{Mode: in.Mode, Name: in.Name, ReadOnly: in.ReadOnly})
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: key created", "merchant", k.MerchantRef, "key", k.ID, "mode", k.Mode)
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) adminRevokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	k, err := s.store.RevokeAPIKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: key revoked", "merchant", k.MerchantRef, "key", k.ID)
	writeJSON(w, http.StatusOK, k)
	return nil
}

type rotateInput struct {
	// ExpireOldIn is how long the old key keeps working, a Go duration such as "24h" (default
	// 24h; "0s" revokes it now).
	ExpireOldIn *string `json:"expireOldIn"`
}

type rotated struct {
	Key store.NewKey  `json:"key"`
	Old store.KeyInfo `json:"old"`
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) error {
	var in rotateInput
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	d := 24 * time.Hour
	if in.ExpireOldIn != nil {
		var err error
		if d, err = time.ParseDuration(*in.ExpireOldIn); err != nil {
			return domain.Errorf(domain.CodeInvalidField, "expireOldIn", "expireOldIn must be a duration such as 24h or 30m, not %q", *in.ExpireOldIn)
		}
	}
	k, old, err := s.store.RotateAPIKey(r.Context(), r.PathValue("id"), d)
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: key rotated", "merchant", k.MerchantRef, "key", k.ID, "old", old.ID)
	writeJSON(w, http.StatusCreated, rotated{Key: k, Old: old})
	return nil
}

// accounts are the merchants' own Stripe accounts; without Config.Accounts, ones that can be
// read and removed but not set (no encryption key).
func (s *Server) accounts() *processors.Accounts {
	if s.cfg.Accounts != nil {
		return s.cfg.Accounts
	}
	return &processors.Accounts{Store: s.store}
}

func (s *Server) adminGetStripe(w http.ResponseWriter, r *http.Request) error {
	info, err := s.accounts().Info(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) adminSetStripe(w http.ResponseWriter, r *http.Request) error {
	var in processors.StripeSettings
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	info, err := s.accounts().Set(r.Context(), r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: merchant's Stripe set", "merchant", info.MerchantRef, "key", info.SecretKeyHint, "webhookSecret", info.WebhookSecret)
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) adminRemoveStripe(w http.ResponseWriter, r *http.Request) error {
	info, err := s.accounts().Remove(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	s.logFor(r).Info("admin API: merchant's Stripe removed", "merchant", info.MerchantRef)
	writeJSON(w, http.StatusOK, info)
	return nil
}
