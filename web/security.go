package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// csrfCookie holds a random per-browser value; every form carries a token that is the HMAC of
// that value and the session id under the server's secret (a double-submit token bound to the
// session). A forged cross-site POST has neither the cookie (SameSite=Lax) nor the token.
const csrfCookie = "tg_csrf"

// csrfField is the hidden form field carrying the token.
const csrfField = "csrf_token"

// csrfToken returns the form token for sessionID, setting the browser's cookie when it has none.
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request, sessionID string) string {
	value := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		value = c.Value
	} else {
		value = randomToken(24)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: value, Path: "/", HttpOnly: true,
			Secure: h.secureCookies(r), SameSite: http.SameSiteLaxMode,
		})
	}
	return h.sign(sessionID, value)
}

// checkCSRF reports whether a POST carries the token that matches its cookie and session.
func (h *handler) checkCSRF(r *http.Request, sessionID string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	got := r.PostFormValue(csrfField)
	return got != "" && hmac.Equal([]byte(got), []byte(h.sign(sessionID, c.Value)))
}

func (h *handler) sign(sessionID, value string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte("csrf\x00" + sessionID + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *handler) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(h.cfg.PublicURL, "https://")
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux; a failure means the machine is broken
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// contentSecurityPolicy is the CSP of every page. Scripts come only from our own /assets (no
// inline script at all); Stripe's hosts are allowed only when Stripe is the live processor,
// because its Payment Element is an iframe that loads from them.
func (h *handler) contentSecurityPolicy() string {
	script, frame, connect := "'self'", "'none'", "'self'"
	// a merchant's own Stripe account may serve any page on a deployment that can keep one
	if p, _ := h.modes.For(false); (p != nil && p.Name() == "stripe" && h.cfg.StripePublishableKey != "") ||
		(h.modes.Merchants != nil && h.modes.Merchants.Keys != nil) {
		script += " https://js.stripe.com"
		frame = "https://js.stripe.com https://hooks.stripe.com"
		connect += " https://api.stripe.com"
	}
	return "default-src 'none'; script-src " + script + "; style-src 'self'; " +
		"img-src 'self' https: data:; font-src 'self'; connect-src " + connect + "; frame-src " + frame + "; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// securityHeaders sets the headers every page answers with.
func (h *handler) securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer") // the session id is in the URL: never leak it onwards
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
}
