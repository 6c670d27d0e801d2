package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// Without an OTLP endpoint Setup turns nothing on, and the instrumentation stays unwrapped.
func TestSetupIsOffWithoutAnEndpoint(t *testing.T) {
	env := map[string]string{"OTEL_SERVICE_NAME": "x"}
	shutdown, err := Setup(context.Background(), func(k string) string { return env[k] }, "tollgate-api", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	if Enabled() || PgxTracer() != nil || Client(nil) != nil {
		t.Fatal("tracing is on without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http://127.0.0.1:1", "carrier-pigeon"
	if _, err := Setup(context.Background(), func(k string) string { return env[k] }, "tollgate-api", "test"); err == nil || Enabled() {
		t.Fatal("an unknown OTLP protocol was accepted")
	}
}

// A line logged with a request's context carries its requestId once, whether the logger is
// bound to the request (LogAttrs) or not; an unknown format is refused.
func TestLogLinesCarryTheRequestIDOnce(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, LogJSON, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "req_abc")
	l.InfoContext(ctx, "by context")
	l.With(LogAttrs(ctx)...).InfoContext(ctx, "bound and by context")
	l.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines: %q", lines)
	}
	for i, want := range []int{1, 1, 0} {
		if n := strings.Count(lines[i], `"requestId":"req_abc"`); n != want {
			t.Errorf("line %d carries the request id %d times, want %d: %s", i, n, want, lines[i])
		}
		if !json.Valid([]byte(lines[i])) {
			t.Errorf("line %d is not JSON: %s", i, lines[i])
		}
	}
	if _, err := NewLogger(&buf, "yaml", slog.LevelInfo); err == nil {
		t.Error("log format yaml was accepted")
	}
}
