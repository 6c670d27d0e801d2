// Package web serves Tollgate's hosted pages: the checkout at /checkout/<cs_…>, the customer
// portal at /portal/<ps_…>, /pay/<pay_…> for a renewal the bank wants authenticated, and the
// documents /invoice/<token> and /credit-note/<token>. Pages are server-rendered html/template with embedded CSS and one
// small script, so they work without JavaScript (except Stripe's card field) and need no
// front-end build. The session id in the URL is the bearer secret of a page; no API key ever
// reaches a browser.
package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config holds the pages' dependencies.
type Config struct {
	Store *store.Store
	// Payments is the deployment's processor (processors.New). It takes the cards of sessions
	// made by live keys; sessions made by sandbox keys always use the sandbox (processors.Split).
	Payments payments.Processor
	// Accounts are the merchants' own Stripe accounts: a live session of a merchant that has
	// one takes cards with its keys (processors.Accounts); nil: every merchant uses Payments.
	Accounts  *processors.Accounts
	Lifecycle Lifecycle
	// PublicURL is how browsers reach the server (https makes the CSRF cookie Secure).
	PublicURL string
	// StripePublishableKey is the browser-safe key of Stripe's Payment Element; it is used only
	// when Payments is the Stripe processor, and only by live sessions.
	StripePublishableKey string
	// CheckoutTTL and PortalTTL bound a session's life on top of its stored expiry (0 keeps
	// the stored one: 24 h and 15 min by default).
	CheckoutTTL time.Duration
	PortalTTL   time.Duration
	// Secret keys the CSRF tokens. Every API replica must share it; empty picks a random one,
	// fine for a single process.
	Secret []byte
	// ActivationWait bounds how long Pay waits for the first payment's outcome before showing
	// a "processing" page that refreshes itself (default 20 s).
	ActivationWait time.Duration
	// SandboxWebhooks sends the sandbox's outcomes (an authentication on /pay/<token>) through
	// the API's webhook handler, signed as Stripe signs; nil tells the purchase directly.
	SandboxWebhooks *sandbox.Webhooks
	// CardLimits bound card attempts per session, customer and client address (card testing).
	CardLimits CardLimits
	// ClientIPHeader names the header in which the operator's reverse proxy passes the client's
	// address (e.g. X-Forwarded-For, whose last entry is used); empty uses the connection's peer.
	// Set it only behind such a proxy: a client can send the header itself.
	ClientIPHeader string
	Logger         *slog.Logger
	// Now is the clock for session expiry (tests); nil is time.Now.
	Now func() time.Time
}

type handler struct {
	cfg    Config
	st     *store.Store
	log    *slog.Logger
	secret []byte
	mux    *http.ServeMux
	pages  pages
	csp    string // the Content-Security-Policy header, fixed by the config
	limits CardLimits
	ips    *ipBuckets
	modes  processors.ByMode
}

// New returns the handler of /checkout/, /portal/ and /assets/.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifecycle == nil {
		cfg.Lifecycle = noLifecycle{}
	}
	if cfg.ActivationWait <= 0 {
		cfg.ActivationWait = 20 * time.Second
	}
	h := &handler{cfg: cfg, st: cfg.Store, log: cfg.Logger, secret: cfg.Secret, mux: http.NewServeMux(),
		pages: mustParsePages(), limits: cfg.CardLimits.withDefaults()}
	h.ips = newIPBuckets(h.limits.IPBurst, h.limits.IPEvery)
	h.modes = processors.Split(cfg.Payments, cfg.Store.Pool)
	h.modes.Merchants = cfg.Accounts
	if len(h.secret) == 0 {
		h.secret = make([]byte, 32)
		_, _ = rand.Read(h.secret)
	}
	h.csp = h.contentSecurityPolicy()
	h.routes()
	return h
}

// routes declares every page in one place.
func (h *handler) routes() {
	h.mux.HandleFunc("GET /checkout/{id}", h.checkoutPage)
	h.mux.HandleFunc("POST /checkout/{id}", h.checkoutPay)
	h.mux.HandleFunc("POST /checkout/{id}/authenticate", h.checkoutAuthenticate)
	h.mux.HandleFunc("GET /checkout/{id}/success", h.checkoutSuccess)
	h.mux.HandleFunc("GET /portal/{id}", h.portalPage)
	h.mux.HandleFunc("GET /portal/{id}/cancel", h.portalConfirmCancel)
	h.mux.HandleFunc("POST /portal/{id}/cancel", h.portalCancel)
	h.mux.HandleFunc("POST /portal/{id}/reactivate", h.portalReactivate)
	h.mux.HandleFunc("POST /portal/{id}/retry", h.portalRetry)
	h.mux.HandleFunc("GET /portal/{id}/change", h.portalChangePage)
	h.mux.HandleFunc("POST /portal/{id}/change", h.portalChange)
	h.mux.HandleFunc("POST /portal/{id}/keep-plan", h.portalKeepPlan)
	h.mux.HandleFunc("GET /portal/{id}/card", h.portalCardPage)
	h.mux.HandleFunc("POST /portal/{id}/card", h.portalCard)
	h.mux.HandleFunc("GET /pay/{token}", h.payPage)
	h.mux.HandleFunc("POST /pay/{token}", h.payAnswer)
	h.mux.HandleFunc("GET /invoice/{token}", h.invoicePage)
	h.mux.HandleFunc("GET /invoice/{token}/pdf", h.invoicePDF)
	h.mux.HandleFunc("GET /credit-note/{token}", h.creditNotePage)
	h.mux.HandleFunc("GET /credit-note/{token}/pdf", h.creditNotePDF)
	assets, _ := fs.Sub(assetFS, "assets")
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	h.mux.HandleFunc("/checkout/", h.notFound)
	h.mux.HandleFunc("/portal/", h.notFound)
	h.mux.HandleFunc("/pay/", h.notFound)
	h.mux.HandleFunc("/invoice/", h.notFound)
	h.mux.HandleFunc("/credit-note/", h.notFound)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.securityHeaders(w)
	h.mux.ServeHTTP(w, r)
}

// stripeKey is the publishable key with which a session of this merchant and mode takes cards in
// Stripe's Payment Element, "" when it does not: a live session of a merchant with its own
// Stripe account uses that account's key, one without uses the deployment's Stripe and its
// publishable key. A sandbox session never does.
func (h *handler) stripeKey(ctx context.Context, merchant string, sandbox bool) string {
	p, publishable, err := h.modes.ForMerchant(ctx, merchant, sandbox)
	if err != nil || p == nil || p.Name() != "stripe" {
		if err != nil {
			h.log.Error("payments: no processor for the session's merchant", "merchant", merchant, "err", err)
		}
		return ""
	}
	return cmp.Or(publishable, h.cfg.StripePublishableKey)
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
