// Package telemetry is Tollgate's tracing (OpenTelemetry) and the request-scoped fields of its
// logs. Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// is set; while it is off nothing is wrapped, so the hot paths pay nothing for it.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// enabled says whether spans are recorded: Setup found an OTLP endpoint, or a test called Use.
var enabled atomic.Bool

// Enabled reports whether tracing is on. The instrumentation (HTTP handler and client, Temporal
// interceptor, Postgres tracer) is installed only when it is, when each is built.
func Enabled() bool { return enabled.Load() }

// Setup turns tracing on when the standard OpenTelemetry environment asks for it: an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), over HTTP/protobuf
// unless OTEL_EXPORTER_OTLP_PROTOCOL (or …_TRACES_PROTOCOL) is grpc. The exporter reads the rest
// of OTEL_EXPORTER_OTLP_* itself (headers, TLS, timeout); OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override the resource; OTEL_TRACES_SAMPLER picks the sampler
// (parent-based, always on, by default); OTEL_SDK_DISABLED=true keeps it off. service names
// this process (tollgate-api, tollgate-worker). The returned func flushes and stops the
// exporter; it is a no-op when tracing is off.
func Setup(ctx context.Context, getenv func(string) string, service, version string) (func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return noop, nil
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop, nil
	}
	protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: Tollgate exports traces over http/protobuf or grpc", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service), attribute.String("service.version", version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	Use(tp)
	return func(ctx context.Context) error {
		enabled.Store(false)
		return tp.Shutdown(ctx)
	}, nil
}

// Use makes tp the process's tracer provider, with W3C trace-context and baggage propagation,
// and turns the instrumentation on. Tests pass a provider over an in-memory exporter; the
// returned func turns it off again.
func Use(tp trace.TracerProvider) (restore func()) {
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
	return func() {
		enabled.Store(false)
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	}
}
