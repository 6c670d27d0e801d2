package telemetry

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Handler wraps h in a server span per request when tracing is on (an incoming traceparent
// header continues the caller's trace); off, it is h. Route names the span after routing.
func Handler(h http.Handler) http.Handler {
	if !Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "HTTP", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		if r.Pattern != "" {
			return r.Pattern
		}
		return r.Method
	}))
}

// Route names the request's server span after the route pattern the mux matched
// ("POST /v1/activate-plan"), so spans group by route and never by an object's reference.
func Route(r *http.Request) {
	span := trace.SpanFromContext(r.Context())
	if r.Pattern == "" || !span.IsRecording() {
		return
	}
	span.SetName(r.Pattern)
	route := r.Pattern
	if _, path, ok := strings.Cut(route, " "); ok {
		route = path
	}
	span.SetAttributes(attribute.String("http.route", route))
}

// stripeTimeout is stripe-go's own default when it builds its client.
const stripeTimeout = 80 * time.Second

// Client is c (nil: a client with stripe-go's 80 s timeout) with a client span around every
// outgoing request when tracing is on (opts tune it); off, it is c unchanged.
func Client(c *http.Client, opts ...otelhttp.Option) *http.Client {
	if !Enabled() {
		return c
	}
	out := &http.Client{Timeout: stripeTimeout}
	if c != nil {
		*out = *c
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = otelhttp.NewTransport(base, opts...)
	return out
}
