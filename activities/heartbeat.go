package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// keepAlive heartbeats until the returned stop is called, twice per heartbeat timeout: the
// interval follows the timeout the workflow sets, so the two cannot drift apart. A payment call
// is normally done long before the first beat; a slow one keeps beating, and a killed worker
// stops beating, so Temporal retries its activity after the heartbeat timeout (seconds) rather
// than the start-to-close timeout. The retry carries the same idempotency key.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	timeout := activity.GetInfo(ctx).HeartbeatTimeout
	if timeout <= 0 { // nobody is watching for beats
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(timeout / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
