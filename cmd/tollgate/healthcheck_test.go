package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/worker"
)

func healthcheck(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"healthcheck"}, args...), func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// The API's health check is its /readyz, at the address it listens on: 200 passes, anything
// else fails with the answer in the error (what `docker inspect` shows).
func TestHealthcheckAsksTheAPIsReadyz(t *testing.T) {
	status := http.StatusOK
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"postgres":"up","temporal":"up"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// the container listens on 0.0.0.0 (TOLLGATE_ADDR): the check dials loopback
	if out, err := healthcheck(map[string]string{"TOLLGATE_ADDR": "0.0.0.0:" + port}); err != nil || !strings.Contains(out, `"postgres":"up"`) {
		t.Fatalf("ready API: %v %q", err, out)
	}
	status = http.StatusServiceUnavailable
	if _, err := healthcheck(nil, "--url", srv.URL+"/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("an API answering 503 passed: %v", err)
	}
	srv.Close()
	if _, err := healthcheck(nil, "--url", srv.URL+"/readyz"); err == nil {
		t.Fatal("an API that is down passed")
	}
}

// The worker serves no HTTP: its check opens what the worker opens, and passes only while a
// worker polls the purchase task queue.
func TestHealthcheckOfTheWorker(t *testing.T) {
	env := map[string]string{"DATABASE_URL": testenv.PostgresURL(t), "TEMPORAL_ADDRESS": testenv.TemporalAddress(t),
		"TEMPORAL_NAMESPACE": testenv.TemporalServer(t).Namespace()}
	st := testenv.Postgres(t)
	w := worker.New(testenv.Temporal(t), activities.New(st, processors.ByMode{Sandbox: sandbox.New(st.Pool)}), worker.Options{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if out, err := healthcheck(env, "--worker"); err != nil || !strings.Contains(out, "polling") {
		t.Fatalf("a running worker: %v %q", err, out)
	}
	env["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
	if _, err := healthcheck(env, "--worker", "--timeout", "3s"); err == nil {
		t.Fatal("a worker without Temporal passed")
	}
}
