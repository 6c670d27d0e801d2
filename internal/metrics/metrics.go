// Package metrics is what an operator scrapes at GET /metrics of the API and the worker
// (Prometheus, client_golang): HTTP requests, the usage hot path, money movements, purchases by
// status, the Postgres pool, and the Temporal SDK's own metrics. One registry per process; the
// counters are package variables so the code that counts needs no plumbing.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every metric of the process, with the Go runtime's and the process's own.
var Registry = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}()

var auto = promauto.With(Registry)

var (
	// HTTPRequests counts answered requests by route pattern and status code.
	HTTPRequests = auto.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"})
	// HTTPDuration is the latency of requests by route pattern.
	HTTPDuration = auto.NewHistogramVec(prometheus.HistogramOpts{Name: "tollgate_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"})
	// UsageEvents counts usage events recorded (each counted once, idempotent repeats included).
	UsageEvents = auto.NewCounter(prometheus.CounterOpts{Name: "tollgate_usage_events_total",
		Help: "Usage events recorded."})
	// UsageGroupSize is the number of single events committed together by the group commit.
	UsageGroupSize = auto.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_usage_group_commit_size",
		Help: "Single usage events committed in one statement by the group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	// LimitChecks counts limit checks by verdict (within, blocked).
	LimitChecks = auto.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_limit_checks_total",
		Help: "Limit checks answered, by verdict (within, blocked)."}, []string{"verdict"})
	// Charges counts charge attempts by outcome (succeeded, processing, declined, fault, unknown).
	Charges = auto.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_charges_total",
		Help: "Charge attempts by outcome: succeeded, processing, declined, fault (ours or the processor's), unknown (retried with a lookup)."},
		[]string{"outcome"})
	// Refunds counts refund attempts by outcome (succeeded, refused, error).
	Refunds = auto.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_refunds_total",
		Help: "Refund attempts by outcome: succeeded, refused (for good), error (retried)."}, []string{"outcome"})
)

// Every outcome is exported from the start (at 0), so a rate over it exists before the first.
func init() {
	for _, o := range []string{"succeeded", "processing", "declined", "fault", "unknown"} {
		Charges.WithLabelValues(o)
	}
	for _, o := range []string{"succeeded", "refused", "error"} {
		Refunds.WithLabelValues(o)
	}
	for _, v := range []string{"within", "blocked"} {
		LimitChecks.WithLabelValues(v)
	}
}

// Handler serves the registry in Prometheus's text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}
