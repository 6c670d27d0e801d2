package metrics

import (
	"strconv"
	"time"
)

// ObserveRequest counts and times one answered request by the pattern of the ServeMux route that
// served it (never the raw path: refs would make a series per object); "unmatched" when none did.
func ObserveRequest(pattern string, status int, took time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	HTTPRequests.WithLabelValues(pattern, strconv.Itoa(status)).Inc()
	HTTPDuration.WithLabelValues(pattern).Observe(took.Seconds())
}
