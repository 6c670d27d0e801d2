package testenv

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tollgate-billing/tollgate/devenv"
)

var (
	temporalOnce   sync.Once
	temporalServer *devenv.Temporal
	temporalErr    error
)

// TemporalServer returns the test binary's embedded Temporal server (in memory, free ports, no
// UI), starting it on first use. Test binaries run as separate processes, so one server per
// binary isolates packages from each other; tests inside a package share it and should use
// unique workflow IDs and task queues (e.g. derived from t.Name()).
func TemporalServer(t testing.TB) *devenv.Temporal {
	t.Helper()
	temporalOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		temporalServer, temporalErr = devenv.StartTemporal(ctx, devenv.TemporalConfig{
			UIPort: -1,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		})
		if temporalErr == nil {
			onExit(temporalServer.Stop)
		}
	})
	if temporalErr != nil {
		t.Fatalf("start embedded Temporal server: %v", temporalErr)
	}
	return temporalServer
}

// TemporalAddress is the host:port of the test binary's Temporal frontend.
func TemporalAddress(t testing.TB) string {
	t.Helper()
	return TemporalServer(t).FrontendAddress()
}

// Temporal returns a client of the test binary's Temporal server, in its namespace with our
// search attributes registered. The client is closed when the test ends.
func Temporal(t testing.TB) client.Client {
	t.Helper()
	srv := TemporalServer(t)
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendAddress(),
		Namespace: srv.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		t.Fatalf("dial Temporal at %s: %v", srv.FrontendAddress(), err)
	}
	t.Cleanup(c.Close)
	return c
}
