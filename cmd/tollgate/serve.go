package main

import (
	"cmp"
	"github.com/tollgate-billing/tollgate/internal/metrics"

	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/httpserver"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/web"
)

// deps are the long-lived clients every server part shares.
type deps struct {
	cfg      config
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	payments payments.Processor
	// stopTracing flushes and stops the trace exporter (a no-op when tracing is off)
	stopTracing func()
	// accounts are the merchants' own Stripe accounts, opened with TOLLGATE_ENCRYPTION_KEY
	accounts *processors.Accounts
	// sandboxHooks send the sandbox's outcomes to this process's webhook handler, signed with a
	// secret of this process's own; their Handler is set once the API is built (newHandler)
	sandboxHooks *sandbox.Webhooks
}

func runMigrate(ctx context.Context, args []string, e env) error {
	var c config
	fs := newFlagSet("migrate", "Apply the embedded database migrations (safe to run repeatedly).", e)
	c.bindDatabase(fs, e)
	c.bindLog(fs, e, telemetry.LogJSON)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.checkLog(); err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

// openStore connects to DATABASE_URL.
func (c config) openStore(ctx context.Context) (*store.Store, error) {
	if err := c.requireDatabase(); err != nil {
		return nil, err
	}
	return store.Open(ctx, c.DatabaseURL)
}

// openDeps connects to Postgres and Temporal and picks the payment processor.
func openDeps(ctx context.Context, c config, log *slog.Logger) (*deps, error) {
	keys, err := c.keyring()
	if err != nil {
		return nil, err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	tc, err := dialTemporal(ctx, c, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	st.CheckoutTTL, st.PortalTTL = c.CheckoutTTL, c.PortalTTL
	if c.PublicURL != "" || c.Addr != "" { // a worker alone knows it only from --public-url
		st.PublicURL = c.publicURL()
	}
	metrics.WatchPostgres(st.Pool)
	return &deps{cfg: c, log: log, store: st, temporal: tc, payments: newProcessor(c, st),
		accounts:     &processors.Accounts{Store: st, Keys: keys, BackendURL: c.StripeAPIURL},
		sandboxHooks: &sandbox.Webhooks{Secret: domain.NewSecretRef("whsec_sb")}}, nil
}

func (d *deps) Close() {
	d.temporal.Close()
	d.store.Close()
	if d.stopTracing != nil {
		d.stopTracing()
	}
}

// openTraced turns tracing on when the OTEL_* environment asks for it (telemetry.Setup), as
// process service, then opens the clients — which take their instrumentation as they are built.
func openTraced(ctx context.Context, c config, e env, service string, log *slog.Logger) (*deps, error) {
	shutdown, err := telemetry.Setup(ctx, e.getenv, service, version)
	if err != nil {
		return nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}
	if endpoint := cmp.Or(e.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), e.getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); telemetry.Enabled() && endpoint != "" {
		log.Info("tracing on", "service", service, "endpoint", endpoint)
	}
	d, err := openDeps(ctx, c, log)
	if err != nil {
		stop()
		return nil, err
	}
	d.stopTracing = stop
	return d, nil
}

// newProcessor is Stripe when a secret key is configured, else the sandbox.
func newProcessor(c config, st *store.Store) payments.Processor {
	return processors.New(processors.Config{StripeSecretKey: c.StripeSecretKey, StripeBackendURL: c.StripeAPIURL, Pool: st.Pool})
}

// serveHTTP runs h on addr until ctx ends, then drains for up to 10 s. Every phase of a
// connection has a deadline: httpserver.Default in production, shorter ones in tests.
func serveHTTP(ctx context.Context, addr string, h http.Handler, t httpserver.Timeouts) error {
	ln, err := listenAPI(addr)
	if err != nil {
		return err
	}
	return serveOn(ctx, ln, h, t)
}

// listenAPI binds the API's port: from then on a connection waits in the backlog until the
// server serves, rather than being refused.
func listenAPI(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("API port %s is in use (change it with --addr or TOLLGATE_ADDR): %w", addr, err)
	}
	return ln, nil
}

// serveOn serves h on ln until ctx ends, then shuts down gracefully.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, t httpserver.Timeouts) error {
	srv := httpserver.New(h, t)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func runAPI(ctx context.Context, args []string, e env) error {
	c, err := parseServerFlags("api", "Run the API server: REST under /v1, MCP at /mcp, hosted checkout and portal pages.",
		args, e, (*config).bindServer)
	if err != nil {
		return err
	}
	if err := c.checkCardEntry(); err != nil {
		return err
	}
	if err := c.checkAdminToken(); err != nil {
		return err
	}
	d, err := openTraced(ctx, c, e, "tollgate-api", c.logger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	// bound before anything says it listens (the log line, the key-change listener's)
	ln, err := listenAPI(d.cfg.Addr)
	if err != nil {
		return err
	}
	h := newHandler(ctx, d)
	d.log.Info("API listening", "addr", "http://"+d.cfg.Addr)
	return serveOn(ctx, ln, h, httpserver.Default)
}

// openFromFlags parses a server subcommand's flags (database, Temporal, payments, log, plus
// extra) and opens its clients.
func openFromFlags(ctx context.Context, name, summary string, args []string, e env, extra ...func(*config, *flag.FlagSet, env)) (*deps, error) {
	c, err := parseServerFlags(name, summary, args, e, extra...)
	if err != nil {
		return nil, err
	}
	return openTraced(ctx, c, e, "tollgate-"+name, c.logger(e))
}

// parseServerFlags parses a server subcommand's flags: database, Temporal, payments, log, plus
// extra.
func parseServerFlags(name, summary string, args []string, e env, extra ...func(*config, *flag.FlagSet, env)) (config, error) {
	var c config
	fs := newFlagSet(name, summary, e)
	c.bindDatabase(fs, e)
	c.bindTemporal(fs, e)
	c.bindTemporalTLS(fs, e)
	for _, bind := range extra {
		bind(&c, fs, e)
	}
	c.bindPayments(fs, e)
	c.bindLog(fs, e, telemetry.LogJSON)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.checkLog()
}

// newHandler is the whole HTTP surface of one API process: the REST API, and on the same mux
// the hosted pages and the MCP endpoint. It listens to Postgres for API key changes until ctx
// ends.
func newHandler(ctx context.Context, d *deps) http.Handler {
	st := starter.New(d.temporal, d.store)
	// the sandbox's outcomes reach the webhook handler in this process, signed with a secret of
	// this process's own
	hooks := d.sandboxHooks
	pages := web.New(web.Config{Store: d.store, Payments: d.payments, Lifecycle: web.FromStarter(st),
		Accounts: d.accounts, PublicURL: d.cfg.publicURL(), StripePublishableKey: d.cfg.StripePublishable,
		CheckoutTTL: d.cfg.CheckoutTTL, PortalTTL: d.cfg.PortalTTL, Secret: []byte(d.cfg.WebSecret), Logger: d.log,
		ClientIPHeader: d.cfg.ClientIPHeader, SandboxWebhooks: hooks})
	cfg := api.Config{Store: d.store, Temporal: d.temporal, PublicURL: d.cfg.publicURL(), Logger: d.log,
		Payments: d.payments, Accounts: d.accounts, Starter: st, StripePublishableKey: d.cfg.StripePublishable, StripeWebhookSecret: d.cfg.StripeWebhookSecret,
		SandboxWebhookSecret: hooks.Secret,
		AdminToken:           d.cfg.AdminToken, KeyRate: d.cfg.keyRate(), KeyBurst: d.cfg.KeyBurst,
		Extra: map[string]http.Handler{"/checkout/": pages, "/portal/": pages, "/assets/": pages, "/pay/": pages,
			"/invoice/": pages, "/credit-note/": pages, "GET /metrics": metrics.Handler()}}
	h := mountMCP(d, cfg)
	hooks.Handler = h
	go h.WatchKeys(ctx)
	return h
}

func runWorker(ctx context.Context, args []string, e env) error {
	d, err := openFromFlags(ctx, "worker", "Run the Temporal worker that executes purchase workflows and their activities,\n"+
		"keep the reconciliation schedule, and relay events to webhook endpoints.", args, e, (*config).bindReconcile, (*config).bindWebhooks,
		func(c *config, fs *flag.FlagSet, e env) {
			strFlag(fs, e, &c.MetricsAddr, "metrics-addr", "TOLLGATE_METRICS_ADDR", "", "address to serve GET /metrics on (Prometheus), e.g. 0.0.0.0:9464; empty: none")
			strFlag(fs, e, &c.PublicURL, "public-url", "TOLLGATE_PUBLIC_URL", "", "URL customers reach the API's pages at, for the links events carry (a payment's /pay/<token> page); empty: the links are paths")
		})
	if err != nil {
		return err
	}
	defer d.Close()
	stop, err := startWorker(ctx, d)
	if err != nil {
		return err
	}
	if d.cfg.MetricsAddr != "" {
		if err := serveMetrics(ctx, d); err != nil {
			stop()
			return err
		}
	}
	d.log.Info("worker running", "temporal", d.cfg.TemporalAddress, "namespace", d.cfg.TemporalNamespace)
	<-ctx.Done()
	stop()
	return nil
}

// serveMetrics serves GET /metrics on the worker's --metrics-addr until ctx ends; a port in use
// stops the worker at start, not later.
func serveMetrics(ctx context.Context, d *deps) error {
	ln, err := net.Listen("tcp", d.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics address %s (--metrics-addr, TOLLGATE_METRICS_ADDR): %w", d.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := httpserver.New(mux, httpserver.Default)
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	d.log.Info("metrics served", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}
