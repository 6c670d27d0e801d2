package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/web"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

// realLifecycle runs the purchase workflows for real: the embedded Temporal server, a worker
// with the real activities on a task queue of this test, and the starter client.
func realLifecycle(tc *client.Client) func(e *env) web.Lifecycle { return realLifecycleWith(tc, nil) }

// realLifecycleWith also hands out the starter client (for the sandbox test clock).
func realLifecycleWith(tc *client.Client, sc **starter.Client) func(e *env) web.Lifecycle {
	return func(e *env) web.Lifecycle {
		*tc = testenv.Temporal(e.t)
		tq := "web-" + strings.ReplaceAll(e.t.Name(), "/", "-")
		w := worker.New(*tc, &activities.Activities{Store: e.st, Payments: e.pay}, worker.Options{TaskQueue: tq})
		if err := w.Start(); err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(w.Stop)
		c := starter.New(*tc, e.st)
		c.TaskQueue = tq
		if sc != nil {
			*sc = c
		}
		return web.FromStarter(c)
	}
}

// workflowRunning reports whether the purchase's workflow is open in Temporal.
func workflowRunning(t *testing.T, tc client.Client, purchaseRef string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := tc.DescribeWorkflowExecution(ctx, workflows.WorkflowID(purchaseRef), "")
	if err != nil {
		t.Fatalf("describe workflow of %s: %v", purchaseRef, err)
	}
	return d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}
