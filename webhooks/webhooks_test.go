package webhooks_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// The Standard Webhooks specification's test vector.
func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	got, err := webhooks.Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("signature %q, %v", got, err)
	}
	two, _ := webhooks.Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", webhooks.NewSecret()}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if parts := strings.Split(two, " "); len(parts) != 2 || parts[0] != got {
		t.Fatalf("two secrets: %q", two)
	}
}

func TestNewSecretIsWhsecAndTwentyFourBytes(t *testing.T) {
	s := webhooks.NewSecret()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(raw) < 24 || s == webhooks.NewSecret() {
		t.Fatalf("secret %q: %v", s, err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url, mode string
		ok        bool
	}{
		{"https://hooks.example.com/x", "live", true},
		{"http://hooks.example.com/x", "live", false},
		{"https://127.0.0.1/x", "live", false},
		{"https://10.1.2.3/x", "live", false},
		{"https://192.168.0.1/x", "live", false},
		{"https://169.254.169.254/latest/meta-data", "live", false},
		{"https://[::1]/x", "live", false},
		{"https://[fd00:ec2::254]/x", "live", false},
		{"https://localhost:8443/x", "live", false},
		{"https://user:pw@hooks.example.com/x", "live", false},
		{"ftp://hooks.example.com/x", "sandbox", false},
		{"not a url", "sandbox", false},
		{"/relative", "sandbox", false},
		{"http://127.0.0.1:3000/hooks", "sandbox", true},
		{"http://localhost:3000/hooks", "sandbox", true},
	} {
		if err := webhooks.CheckURL(c.url, c.mode); (err == nil) != c.ok {
			t.Errorf("%s in %s: %v, want ok=%v", c.url, c.mode, err, c.ok)
		}
	}
}

// A live client refuses to connect to loopback when it connects, whatever the URL's host
// looked like when saved; a sandbox client connects; neither follows a redirect. So with tracing
// on, where each request is a client span and no trace context goes to the receiver.
func TestClientChecksAddressesWhenItConnects(t *testing.T) {
	var traceparent atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") != "" {
			traceparent.Add(1)
		}
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	check := func(t *testing.T, ctx context.Context) {
		get := func(c *http.Client, path string) (*http.Response, error) {
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+path, nil)
			res, err := c.Do(req)
			if err == nil {
				res.Body.Close()
			}
			return res, err
		}
		if _, err := get(webhooks.NewClient("live"), "/"); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Fatalf("live client to loopback: %v", err)
		}
		res, err := get(webhooks.NewClient("sandbox"), "/")
		if err != nil || res.StatusCode != 204 {
			t.Fatalf("sandbox client: %v %v", res, err)
		}
		res, err = get(webhooks.NewClient("sandbox"), "/moved")
		if err != nil || res.StatusCode != http.StatusFound {
			t.Fatalf("redirect followed: %v %v", res, err)
		}
	}
	t.Run("untraced", func(t *testing.T) { check(t, context.Background()) })
	t.Run("traced", func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		t.Cleanup(telemetry.Use(tp))
		ctx, span := tp.Tracer("test").Start(context.Background(), "delivery")
		check(t, ctx)
		span.End()
		var clients int
		for _, s := range rec.Ended() {
			if s.SpanKind() == trace.SpanKindClient && s.Parent().SpanID() == span.SpanContext().SpanID() {
				clients++
			}
		}
		if clients != 3 {
			t.Errorf("%d client spans under the caller's span, want one per request (3)", clients)
		}
		if n := traceparent.Load(); n != 0 {
			t.Errorf("the receiver got trace context %d times", n)
		}
	})
}
