package main

import (
	"log/slog"

	"go.temporal.io/sdk/log"

	"github.com/tollgate-billing/tollgate/devenv"
)

// newTemporalLogger routes the SDK's logs through slog, at warn and above only: the SDK is chatty.
func newTemporalLogger(l *slog.Logger) log.Logger {
	return log.NewStructuredLogger(devenv.Quiet(l))
}
