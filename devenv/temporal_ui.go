package devenv

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	uiapi "github.com/temporalio/ui-server/v2/server/api"
	uiauth "github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uicors "github.com/temporalio/ui-server/v2/server/cors"
	uicsrf "github.com/temporalio/ui-server/v2/server/csrf"
	uiheaders "github.com/temporalio/ui-server/v2/server/headers"
	uiroute "github.com/temporalio/ui-server/v2/server/route"
	uiassets "github.com/temporalio/ui-server/v2/ui"

	"github.com/tollgate-billing/tollgate/internal/hostguard"
	"github.com/tollgate-billing/tollgate/internal/httpserver"
)

// temporalUI is the Temporal web UI served from the assets embedded in the ui-server module.
type temporalUI struct {
	server *http.Server
	done   chan struct{}
}

// startUI runs the UI against the frontend and waits until it answers /healthz.
//
// The UI has no login and can signal, update and terminate workflows, so it answers only to
// requests whose Host and Origin are loopback (hostguard): a web page cannot drive it by
// re-pointing its own name at 127.0.0.1 (DNS rebinding). That check has to sit in front of
// every route, so the routes of ui-server's NewServer are assembled here on our own listener.
func startUI(ctx context.Context, cfg TemporalConfig, p temporalPorts) (*temporalUI, error) {
	h, err := uiHandler(&uiconfig.Config{
		Host:                cfg.Host,
		Port:                p.ui,
		TemporalGRPCAddress: net.JoinHostPort(cfg.Host, strconv.Itoa(p.frontend)),
		EnableUI:            true,
		DefaultNamespace:    cfg.Namespace,
		// Plain http on loopback: a Secure CSRF cookie would never come back and every
		// write action (signal, update, cancel) would fail.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		DisableNewsFetch: true, // no network beyond loopback
		HideLogs:         true,
		// WorkflowSignalDisabled and WorkflowUpdateDisabled stay false: operators cancel or
		// reactivate a purchase from the UI by signalling its workflow.
	})
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(p.ui))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("temporal UI port %s is in use (change it with --ui-port): %w", addr, err)
	}
	ui := &temporalUI{server: httpserver.New(hostguard.Guard(nil, h), httpserver.Default),
		done: make(chan struct{})}
	go func() {
		defer close(ui.done)
		_ = ui.server.Serve(ln) // returns once stop closes it
	}()
	if err := waitHTTP(ctx, "http://"+addr+"/healthz", 15*time.Second); err != nil {
		ui.stop()
		return nil, fmt.Errorf("temporal UI on %s: %w", addr, err)
	}
	return ui, nil
}

// uiHandler is what ui-server's NewServer builds (middleware, API, auth and UI routes on the
// embedded assets) without its listener.
func uiHandler(cfg *uiconfig.Config) (http.Handler, error) {
	provider, err := uiconfig.NewConfigProviderWithRefresh(cfg)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover(), middleware.Gzip())
	e.Use(uicors.CORSMiddleware(uicors.CORSConfig{
		AllowHeaders: []string{echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, uiauth.AuthorizationExtrasHeader, "Caller-Type"},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	secureCookie := !cfg.CORS.CookieInsecure
	e.Use(uicsrf.EnsureTokenCookie(secureCookie))
	e.Use(middleware.CSRFWithConfig(uicsrf.MiddlewareConfig(provider, secureCookie)))
	e.Pre(uiroute.PublicPath(cfg.PublicPath))
	uiroute.SetHealthRoute(e)
	forward := []uiapi.Middleware{uiheaders.WithForwardHeaders([]string{uiauth.AuthorizationExtrasHeader, "Caller-Type"})}
	if err := uiroute.SetAPIRoutes(e, provider, forward); err != nil {
		return nil, err
	}
	uiroute.SetAuthRoutes(e, provider)
	assets, err := uiassets.Assets()
	if err != nil {
		return nil, err
	}
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, err
	}
	uiroute.SetUIRoutes(e, cfg.PublicPath, assets, provider)
	uiroute.SetRenderRoute(e, "/")
	return e, nil
}

// stop closes the UI at once: its pages keep long polls open, which a graceful shutdown would
// wait for.
func (ui *temporalUI) stop() {
	_ = ui.server.Close()
	select {
	case <-ui.done:
	case <-time.After(5 * time.Second):
	}
}

// waitHTTP polls url until it answers 200 or the timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
