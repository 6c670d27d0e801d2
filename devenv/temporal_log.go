package devenv

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// Quiet passes on only warnings and errors: the Temporal server and SDK log every shard, queue
// and poller movement at info, which would drown `tollgate dev`'s own output.
func Quiet(l *slog.Logger) *slog.Logger { return atLeast(l, slog.LevelWarn) }

func atLeast(l *slog.Logger, min slog.Leveler) *slog.Logger {
	return slog.New(minLevel{Handler: l.Handler(), min: min})
}

type minLevel struct {
	slog.Handler
	min slog.Leveler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// serverLogger adapts slog to the server's logger interface. Its level starts at warn and is
// raised to error on Stop, when every internal poller and client reports its closed connection.
type serverLogger struct {
	log *slog.Logger
	// tags from With, converted only when a record is emitted: the server calls With on hot
	// paths, and a tag's Value() runs a zap encoder.
	tags []tag.Tag
}

func newServerLogger(l *slog.Logger, level *slog.LevelVar) serverLogger {
	return serverLogger{log: atLeast(l, level)}
}

var (
	_ log.Logger      = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
)

func (s serverLogger) Debug(msg string, tags ...tag.Tag) { s.emit(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)  { s.emit(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)  { s.emit(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal are logged as errors: a dev server must never take the process down.
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }
func (s serverLogger) Panic(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s serverLogger) Fatal(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }

func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	return serverLogger{log: s.log, tags: append(slices.Clip(s.tags), tags...)}
}

// SLog hands components that log through slog the same filtered logger.
func (s serverLogger) SLog() *slog.Logger { return s.log }

func (s serverLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return
	}
	all := append(slices.Clip(s.tags), tags...)
	attrs := make([]slog.Attr, 0, len(all))
	for _, t := range all {
		v := t.Value()
		// A caller that went away (a worker stopping its long poll, a request cut by Stop) is
		// not a server problem, yet the server reports it as an error.
		if text, ok := v.(string); ok && t.Key() == "error" && strings.Contains(text, context.Canceled.Error()) {
			return
		}
		attrs = append(attrs, slog.Any(t.Key(), v))
	}
	s.log.LogAttrs(ctx, level, msg, attrs...)
}
