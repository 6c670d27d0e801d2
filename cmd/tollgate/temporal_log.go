package main

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/log"
)

// newTemporalLogger routes the SDK's logs through slog. The SDK's own lines are chatty and pass
// at warn and above only; the lines of our workflows and activities (workflow.GetLogger and
// activity.GetLogger, whose loggers carry the WorkflowID) pass at the process's level.
func newTemporalLogger(l *slog.Logger) log.Logger {
	return log.NewStructuredLogger(slog.New(sdkLevel{Handler: l.Handler()}))
}

// sdkLevel is l's handler at warn and above, until attributes name a workflow: from then on
// (the SDK's workflow and activity loggers) at the handler's own level.
type sdkLevel struct {
	slog.Handler
	workflow bool
}

func (h sdkLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return (h.workflow || l >= slog.LevelWarn) && h.Handler.Enabled(ctx, l)
}

func (h sdkLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	workflow := h.workflow
	for _, a := range attrs {
		workflow = workflow || a.Key == "WorkflowID"
	}
	return sdkLevel{Handler: h.Handler.WithAttrs(attrs), workflow: workflow}
}

func (h sdkLevel) WithGroup(name string) slog.Handler {
	return sdkLevel{Handler: h.Handler.WithGroup(name), workflow: h.workflow}
}
