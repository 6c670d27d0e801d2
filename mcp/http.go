package mcp

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/hostguard"
	"github.com/tollgate-billing/tollgate/store"
)

// Path is where the API server serves MCP over Streamable HTTP.
const Path = "/mcp"

// HTTPOptions tune the /mcp handler.
type HTTPOptions struct {
	Logger  *slog.Logger
	Version string
	// Hosts are the host names (besides IP addresses and localhost) requests may name in Host
	// and Origin: the public URL's. Others are refused, so a web page cannot reach /mcp by
	// re-pointing its own name at this server (DNS rebinding).
	Hosts []string
}

// NewHTTPHandler serves the tools over Streamable HTTP. Every request must carry an API key
// (X-API-KEY or Authorization: Bearer), checked with authenticate: a missing or refused key is a
// 401 in the API's error shape before any MCP processing. Tool calls then run against apiHandler
// in-process with that same key, so an MCP client sees exactly what the key sees over REST.
//
// The handler is stateless (no Mcp-Session-Id): any API replica can answer any request, so the
// API scales out behind a plain load balancer.
func NewHTTPHandler(apiHandler http.Handler, authenticate func(ctx context.Context, key string) error, opts HTTPOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	server := New(Config{Caller: InProcess{Handler: apiHandler}, Logger: opts.Logger, Version: opts.Version})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: opts.Logger,
			// hostguard below is the one rebinding check; the SDK's own would refuse the public
			// host behind a reverse proxy on the same machine.
			DisableLocalhostProtection: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostguard.Allowed(r, opts.Hosts) {
			writeErrorBody(w, http.StatusForbidden, "invalid_request_error", domain.Errorf(domain.CodeInvalidField, "Host",
				"this server does not answer to host %q with origin %q: its public URL (TOLLGATE_PUBLIC_URL) names the host it serves", r.Host, r.Header.Get("Origin")))
			return
		}
		key := api.APIKeyFrom(r)
		if key == "" {
			unauthorised(w, domain.Errorf(domain.CodeUnauthorised, "X-API-KEY", "missing API key: send X-API-KEY or Authorization: Bearer"))
			return
		}
		if err := authenticate(r.Context(), key); err != nil {
			unauthorised(w, err)
			return
		}
		r.Header.Set(originHeader, api.RequestOrigin(r))
		h.ServeHTTP(w, r)
	})
}

// NewAPI is api.New(cfg) with MCP mounted at /mcp, its tool calls served in-process by that same
// API server, keys checked against cfg.Store; the host of cfg.PublicURL joins opts.Hosts.
func NewAPI(cfg api.Config, opts HTTPOptions) *api.Server {
	opts.Hosts = append(slices.Clone(opts.Hosts), hostguard.NameOf(cfg.PublicURL))
	var srv *api.Server
	forward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) })
	extra := maps.Clone(cfg.Extra)
	if extra == nil {
		extra = map[string]http.Handler{}
	}
	extra[Path] = NewHTTPHandler(forward, StoreAuthenticator(cfg.Store), opts)
	cfg.Extra = extra
	srv = api.New(cfg)
	return srv
}

// StoreAuthenticator checks API keys against the merchants' keys in Postgres.
func StoreAuthenticator(st *store.Store) func(ctx context.Context, key string) error {
	return func(ctx context.Context, key string) error {
		_, err := st.Authenticate(ctx, key)
		return err
	}
}

// unauthorised answers an authentication failure in the API's one error shape; a failure that
// is not a refusal (the database is down) keeps its own status and says nothing internal.
func unauthorised(w http.ResponseWriter, err error) {
	e := domain.AsError(err)
	if e == nil {
		e = domain.Errorf(domain.CodeUnavailable, "", "the service is briefly unavailable; retry shortly")
		w.Header().Set("Retry-After", "1")
	}
	status := api.StatusOf(e.Code)
	typ := "api_error"
	if status == http.StatusUnauthorized {
		typ = "authentication_error"
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	writeErrorBody(w, status, typ, e)
}

// writeErrorBody writes the API's one error shape.
func writeErrorBody(w http.ResponseWriter, status int, typ string, e *domain.Error) {
	body := map[string]any{"type": typ, "code": string(e.Code), "message": e.Message}
	if e.Field != "" {
		body["field"] = e.Field
	}
	if id := w.Header().Get(api.RequestIDHeader); id != "" { // set by the API this endpoint is mounted in
		body["requestId"] = id
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}
