// Package api is Tollgate's HTTP face: the REST API under /v1 (both faces of the seeds), health
// checks, and the mounting point for MCP, hosted pages and webhooks.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/internal/metrics"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// Config holds the server's dependencies. Temporal may be nil in tests of pure-Postgres routes.
type Config struct {
	Store *store.Store
	// Usage records usage events and reads limits (usage.New); nil makes one over Store.
	Usage    *usage.Engine
	Temporal client.Client
	// PublicURL is how browsers and API clients reach this server (for checkout and portal links,
	// pagination links); empty means "derive from the request".
	PublicURL string
	Logger    *slog.Logger
	// Payments is the deployment's processor (processors.New): Stripe when configured. It
	// moves live keys' money; sandbox keys always use the sandbox (processors.Split), and a live
	// key on a deployment without Stripe is refused (503).
	Payments payments.Processor
	// Starter drives purchase workflows; nil builds one on Temporal (purchase actions answer
	// 503 when neither is set).
	Starter *starter.Client
	// StripePublishableKey is the browser-safe key GET /v1/sdk/platform-config hands out.
	StripePublishableKey string
	// StripeWebhookSecret (whsec_…) verifies POST /v1/webhooks/stripe; empty answers 503.
	StripeWebhookSecret string
	// SandboxWebhookSecret verifies the events the sandbox processor sends to the same route
	// (payments/sandbox.Webhooks): an event it signs is the sandbox's. Empty: none are accepted.
	SandboxWebhookSecret string
	// Accounts are the merchants' own Stripe accounts, used for a merchant's live mode in place
	// of Payments when it has one (processors.Accounts); nil: every merchant uses Payments.
	Accounts *processors.Accounts
	// AdminToken turns on the operator's admin API under /admin/v1 (admin.go), which takes it as
	// a Bearer token; empty: off, every /admin path is a 404.
	AdminToken string
	// KeyRate is each API key's rate limit on this server, in requests a second (0: the default,
	// DefaultKeyRate; negative: none), KeyBurst its bucket's size (0: two seconds' worth).
	KeyRate  float64
	KeyBurst int
	// Extra mounts other handlers (MCP at /mcp, pages at /checkout/ and /portal/) on the same mux.
	Extra map[string]http.Handler
}

// Server serves the API. Build it with New; it is an http.Handler.
type Server struct {
	cfg    Config
	store  *store.Store
	usage  *usage.Engine
	log    *slog.Logger
	mux    *http.ServeMux
	routes []string // every registered pattern, for the OpenAPI check
	// adminRoutes are the admin API's patterns (admin.go), apart: they take the admin token, not
	// an API key, and are not in the merchants' OpenAPI document.
	adminRoutes []string
	// traced is serve, in a server span per request when tracing is on (telemetry.Handler)
	traced    http.Handler
	keys      keyCache     // API keys recently found valid (auth_cache.go)
	rateLimit keyRateLimit // each key's token bucket (auth.go)
	modes     processors.ByMode
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, mux: http.NewServeMux(), rateLimit: newKeyRateLimit(cfg.KeyRate, cfg.KeyBurst)}
	if cfg.Store != nil {
		if s.usage = cfg.Usage; s.usage == nil {
			s.usage = usage.New(cfg.Store.Pool)
		}
		s.modes = processors.Split(cfg.Payments, cfg.Store.Pool)
		s.modes.Merchants = cfg.Accounts
		// the outcomes the sandbox makes on its own (a disputed card's dispute) reach this
		// handler, as those of the sandbox routes do, unless the process wired them already
		if sb, ok := s.modes.Sandbox.(*sandbox.Processor); ok && cfg.SandboxWebhookSecret != "" && sb.Webhooks() == nil {
			sb.SetWebhooks(&sandbox.Webhooks{Secret: cfg.SandboxWebhookSecret, Handler: s})
		}
	}
	s.registerRoutes()
	s.registerAdminRoutes()
	for pattern, h := range cfg.Extra {
		s.mux.Handle(pattern, h)
	}
	s.traced = telemetry.Handler(http.HandlerFunc(s.serve))
	return s
}

// ServeHTTP gives the request its id (X-Request-Id) and serves it, traced when tracing is on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.traced.ServeHTTP(w, withRequestID(w, r))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	s.mux.ServeHTTP(rec, r)
	metrics.ObserveRequest(r.Pattern, rec.status, time.Since(start)) // the mux set r.Pattern
	telemetry.Route(r)
	if !strings.HasPrefix(r.URL.Path, "/healthz") {
		s.logFor(r).Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	}
}

// logFor is the logger of a request's lines: each carries the request's id (and its trace when
// tracing is on).
func (s *Server) logFor(r *http.Request) *slog.Logger {
	return s.log.With(telemetry.LogAttrs(r.Context())...)
}

// Routes lists the registered patterns ("GET /v1/customers").
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// handle registers an authenticated JSON route.
func (s *Server) handle(pattern string, h func(http.ResponseWriter, *http.Request) error) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.authenticated(s.idempotent(s.errorsOf(h))))
}

// handlePublic registers a route that needs no API key.
func (s *Server) handlePublic(pattern string, h func(http.ResponseWriter, *http.Request) error) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.errorsOf(h))
}

// errorsOf turns a handler's returned error into the one error shape.
func (s *Server) errorsOf(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "up"})
	return nil
}

// paymentsCheck says whether charges are settling: "down" while a processor has faulted (a
// rejected key, an outage) in the last minutes. It does not make the API unready — requests are
// still served and the purchases wait and retry — but it is what an operator looks for. The
// page is public, so why stays in the log: a processor's message names accounts and keys.
func (s *Server) paymentsCheck(ctx context.Context) string {
	faults, err := s.store.RecentPaymentFaults(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "dependency", "payments", "err", err)
		return "down"
	}
	for _, f := range faults {
		s.log.WarnContext(ctx, "charges not settling", "dependency", "payments", "processor", f.Processor, "kind", f.Kind,
			"since", f.FirstAt.UTC().Format(time.RFC3339), "attempts", f.Failures, "err", f.Message)
	}
	if len(faults) > 0 {
		return "down"
	}
	return "up"
}

// readyz answers 200 only when Postgres and Temporal both answer; "payments" tells whether
// charges are settling. It is public, so every entry is up or down and nothing more: why one is
// down (a driver's error names hosts, users and databases) goes to the log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "up", "temporal": "up"}
	status := http.StatusOK
	down := func(name string, err error) {
		s.logFor(r).Warn("readiness check failed", "dependency", name, "err", err)
		checks[name], status = "down", http.StatusServiceUnavailable
	}
	if err := s.store.Ping(ctx); err != nil {
		down("postgres", err)
	}
	if s.cfg.Temporal == nil {
		checks["temporal"], status = "not configured", http.StatusServiceUnavailable
	} else if _, err := s.cfg.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		down("temporal", err)
	}
	if checks["postgres"] == "up" {
		checks["payments"] = s.paymentsCheck(ctx)
	}
	if status != http.StatusOK {
		retryAfter(w, 1)
	}
	writeJSON(w, status, checks)
	return nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer (streaming MCP responses).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
