package devenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiopts "github.com/temporalio/ui-server/v2/server/server_options"
)

// temporalUI is the Temporal web UI served from the assets embedded in the ui-server module.
type temporalUI struct {
	server *uiserver.Server
	done   chan struct{}
}

// startUI runs the UI against the frontend and waits until it answers /healthz.
//
// ui-server's Start blocks and exits the process (echo's Logger.Fatal) when it cannot listen,
// so ports() has checked the port just before; the window for another process to grab it is
// a few milliseconds.
func startUI(ctx context.Context, cfg TemporalConfig, p temporalPorts) (*temporalUI, error) {
	srv := uiserver.NewServer(uiopts.WithConfigProvider(&uiconfig.Config{
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
	}))
	ui := &temporalUI{server: srv, done: make(chan struct{})}
	go func() {
		defer close(ui.done)
		_ = srv.Start() // returns nil once Stop closes it
	}()
	base := "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(p.ui))
	if err := waitHTTP(ctx, base+"/healthz", 15*time.Second); err != nil {
		ui.stop()
		return nil, fmt.Errorf("temporal UI on %s: %w", base, err)
	}
	return ui, nil
}

func (ui *temporalUI) stop() {
	ui.server.Stop()
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
