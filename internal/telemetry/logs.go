package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Log formats: JSON in production (one object a line, for a log pipeline), text on a laptop.
const (
	LogJSON = "json"
	LogText = "text"
)

// NewLogger is the process's logger: format json or text, at level, writing to w. Every line
// logged with a request's context carries its requestId, and, when tracing is on, its traceId
// and spanId, so a line, an error body and a trace find each other.
func NewLogger(w io.Writer, format string, level slog.Leveler) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case LogJSON:
		h = slog.NewJSONHandler(w, opts)
	case LogText:
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want json or text", format)
	}
	return slog.New(contextHandler{Handler: h}), nil
}

type requestIDKey struct{}

// WithRequestID is ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogAttrs are the request id and trace of ctx as log attributes, for a logger bound to one
// request (logger.With(LogAttrs(ctx)...)); empty when ctx carries neither.
func LogAttrs(ctx context.Context) []any {
	var out []any
	if id := RequestID(ctx); id != "" {
		out = append(out, slog.String(requestIDAttr, id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		out = append(out, slog.String(traceIDAttr, sc.TraceID().String()), slog.String("spanId", sc.SpanID().String()))
	}
	return out
}

const (
	requestIDAttr = "requestId"
	traceIDAttr   = "traceId"
)

// contextHandler adds the request id and the trace of a record's context to the record, unless
// the logger is already bound to them (LogAttrs).
type contextHandler struct {
	slog.Handler
	boundID, boundTrace bool
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := RequestID(ctx); id != "" && !h.boundID {
			r.AddAttrs(slog.String(requestIDAttr, id))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !h.boundTrace {
			r.AddAttrs(slog.String(traceIDAttr, sc.TraceID().String()), slog.String("spanId", sc.SpanID().String()))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := contextHandler{Handler: h.Handler.WithAttrs(attrs), boundID: h.boundID, boundTrace: h.boundTrace}
	for _, a := range attrs {
		out.boundID = out.boundID || a.Key == requestIDAttr
		out.boundTrace = out.boundTrace || a.Key == traceIDAttr
	}
	return out
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name), boundID: h.boundID, boundTrace: h.boundTrace}
}
