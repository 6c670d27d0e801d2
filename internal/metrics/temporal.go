package metrics

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// Temporal is the SDK's metrics handler (client.Options.MetricsHandler) writing to the
// registry: workflow and activity latencies, task-queue polls and backlog, as the SDK names
// them (temporal_…). A name the SDK uses with two label sets keeps the first; the other is
// dropped, as Prometheus cannot hold both.
func Temporal() client.MetricsHandler { return temporalHandler{vecs: &sdkVecs} }

// sdkVecs are the SDK's metrics of every client of the process (one registry holds each name once).
var sdkVecs temporalVecs

type temporalVecs struct {
	mu   sync.Mutex
	vecs map[string]prometheus.Collector // by metric name
}

type temporalHandler struct {
	vecs *temporalVecs
	tags map[string]string
}

func (h temporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return temporalHandler{vecs: h.vecs, tags: merged}
}

func (h temporalHandler) labels() ([]string, prometheus.Labels) {
	names := slices.Sorted(maps.Keys(h.tags))
	labels := prometheus.Labels{}
	for _, n := range names {
		labels[sanitize(n)] = h.tags[n]
	}
	for i := range names {
		names[i] = sanitize(names[i])
	}
	return names, labels
}

// vec returns the collector of name, made with make the first time (nil when the registry
// refuses it); a later call with other label names meets a label mismatch and counts nothing.
func (h temporalHandler) vec(name string, make func() prometheus.Collector) prometheus.Collector {
	v := h.vecs
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.vecs[name]; ok {
		return c
	}
	if v.vecs == nil {
		v.vecs = map[string]prometheus.Collector{}
	}
	c := make()
	if err := Registry.Register(c); err != nil {
		c = nil
	}
	v.vecs[name] = c
	return c
}

func (h temporalHandler) Counter(name string) client.MetricsCounter {
	names, labels := h.labels()
	c, _ := h.vec(name, func() prometheus.Collector {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: sanitize(name), Help: "Temporal SDK counter " + name + "."}, names)
	}).(*prometheus.CounterVec)
	if c != nil {
		if m, err := c.GetMetricWith(labels); err == nil {
			return counterFunc(func(d int64) { m.Add(float64(d)) })
		}
	}
	return counterFunc(func(int64) {})
}

func (h temporalHandler) Gauge(name string) client.MetricsGauge {
	names, labels := h.labels()
	g, _ := h.vec(name, func() prometheus.Collector {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: sanitize(name), Help: "Temporal SDK gauge " + name + "."}, names)
	}).(*prometheus.GaugeVec)
	if g != nil {
		if m, err := g.GetMetricWith(labels); err == nil {
			return gaugeFunc(m.Set)
		}
	}
	return gaugeFunc(func(float64) {})
}

func (h temporalHandler) Timer(name string) client.MetricsTimer {
	names, labels := h.labels()
	t, _ := h.vec(name, func() prometheus.Collector {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: sanitize(name) + "_seconds", Help: "Temporal SDK timer " + name + ".",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, names)
	}).(*prometheus.HistogramVec)
	if t != nil {
		if m, err := t.GetMetricWith(labels); err == nil {
			return timerFunc(func(d time.Duration) { m.Observe(d.Seconds()) })
		}
	}
	return timerFunc(func(time.Duration) {})
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// sanitize makes a Temporal metric or tag name a Prometheus one.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
