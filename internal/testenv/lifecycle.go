package testenv

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/worker"
)

// Lifecycle runs the purchase workflows for test t: a worker with acts on a task queue of the
// test's own on tc (stopped when the test ends), and the starter client that drives purchases
// on that queue, acting for sandbox keys (ForMode gives another mode's).
func Lifecycle(t testing.TB, tc client.Client, acts *activities.Activities) *starter.Client {
	t.Helper()
	tq := "tq-" + strings.ReplaceAll(t.Name(), "/", "-")
	w := worker.New(tc, acts, worker.Options{TaskQueue: tq})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	c := starter.New(tc, acts.Store)
	c.TaskQueue = tq
	return c
}
