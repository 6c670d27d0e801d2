package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/metrics"
)

func scrape(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// The SDK's metrics reach the registry under Prometheus names, its timers as histograms in
// seconds; a name met again with other tags is dropped rather than breaking the scrape.
func TestTemporalMetricsReachTheRegistry(t *testing.T) {
	h := metrics.Temporal().WithTags(map[string]string{"namespace": "default", "task-queue": "purchases"})
	h.Counter("temporal_test_polls").Inc(3)
	h.Timer("temporal_test_latency").Record(250 * time.Millisecond)
	h.Gauge("temporal_test_slots").Update(7)
	h.WithTags(map[string]string{"extra": "x"}).Counter("temporal_test_polls").Inc(1) // other label names
	out := scrape(t)
	for _, want := range []string{
		`temporal_test_polls{namespace="default",task_queue="purchases"} 3`,
		`temporal_test_latency_seconds_count{namespace="default",task_queue="purchases"} 1`,
		`temporal_test_slots{namespace="default",task_queue="purchases"} 7`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

// Requests are counted by route pattern, never by raw path; outcomes exist before the first.
func TestRequestsAreCountedByRoute(t *testing.T) {
	metrics.ObserveRequest("GET /v1/purchases/{ref}", 200, 3*time.Millisecond)
	metrics.ObserveRequest("", 404, time.Millisecond)
	out := scrape(t)
	for _, want := range []string{
		`tollgate_http_requests_total{code="200",route="GET /v1/purchases/{ref}"} 1`,
		`tollgate_http_requests_total{code="404",route="unmatched"} 1`,
		`tollgate_refunds_total{outcome="refused"} 0`,
		`tollgate_charges_total{outcome="declined"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
}
