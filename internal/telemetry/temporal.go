package telemetry

import (
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// TemporalInterceptors are the client interceptors that carry a trace from the caller into
// workflows and activities: Temporal's OpenTelemetry interceptor, which is also a worker
// interceptor, so a worker built on the client continues the trace in each workflow and
// activity. Nil when tracing is off.
func TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if !Enabled() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		return nil, err
	}
	return []interceptor.ClientInterceptor{i}, nil
}
