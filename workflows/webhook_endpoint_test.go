package workflows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/workflows"
)

// fakeEndpoint answers an endpoint's batches from a script and records what the workflow asks.
type fakeEndpoint struct {
	script  []workflows.DeliverFirstAttemptsResult
	batches int
	marked  [][]int64
	retries []workflows.DeliverWebhookInput
}

func (f *fakeEndpoint) DeliverFirstAttempts(_ context.Context, in workflows.DeliverFirstAttemptsInput) (workflows.DeliverFirstAttemptsResult, error) {
	f.batches++
	if f.batches > len(f.script) {
		return workflows.DeliverFirstAttemptsResult{}, nil
	}
	return f.script[f.batches-1], nil
}

func (f *fakeEndpoint) MarkWebhooksRetrying(_ context.Context, in workflows.MarkWebhooksRetryingInput) error {
	f.marked = append(f.marked, in.DeliveryIDs)
	return nil
}

func (f *fakeEndpoint) DeliverWebhook(_ context.Context, in workflows.DeliverWebhookInput) (workflows.DeliverWebhookResult, error) {
	f.retries = append(f.retries, in)
	return workflows.DeliverWebhookResult{Delivered: true}, nil
}

func runEndpoint(t *testing.T, f *fakeEndpoint, signals ...time.Duration) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(f)
	env.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookDeliveryWorkflow})
	for _, at := range signals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalWebhooksPending, nil) }, at)
	}
	env.ExecuteWorkflow(workflows.WebhookEndpoint, workflows.WebhookEndpointInput{EndpointRef: "we_1"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

// A full batch is followed at once by the next; a delivery whose first attempt failed gets a
// retry workflow that goes on from its second attempt after the first wait, and is then marked
// retrying; with nothing more the workflow ends once idle.
func TestWebhookEndpointHandsFailuresToRetryWorkflows(t *testing.T) {
	f := &fakeEndpoint{script: []workflows.DeliverFirstAttemptsResult{
		{Delivered: 500, More: true},
		{Delivered: 3, Retry: []workflows.RetryDelivery{{DeliveryID: 7, EventRef: "evt_7", Attempts: 1},
			{DeliveryID: 9, EventRef: "evt_9", Attempts: 2}}},
	}}
	runEndpoint(t, f)
	if f.batches != 2 {
		t.Fatalf("%d batches, want 2 (a full one, then the rest)", f.batches)
	}
	if len(f.marked) != 1 || !slices.Equal(f.marked[0], []int64{7, 9}) {
		t.Fatalf("marked retrying %v", f.marked)
	}
	if len(f.retries) != 2 {
		t.Fatalf("retry attempts %+v", f.retries)
	}
	for _, r := range f.retries {
		if want := map[int64]int{7: 2, 9: 3}[r.DeliveryID]; r.Attempt != want {
			t.Fatalf("delivery %d retried as attempt %d, want %d", r.DeliveryID, r.Attempt, want)
		}
	}
}

// A signal while the workflow waits wakes it for another batch; without one it ends once idle.
func TestWebhookEndpointWakesOnTheRelaysSignal(t *testing.T) {
	f := &fakeEndpoint{}
	runEndpoint(t, f, time.Minute, 2*time.Minute)
	if f.batches != 3 {
		t.Fatalf("%d batches, want 3 (at start, and one for each signal)", f.batches)
	}
}

// A deleted or disabled endpoint ends the workflow after one batch that sent nothing.
func TestWebhookEndpointEndsWhenTheEndpointIsClosed(t *testing.T) {
	f := &fakeEndpoint{script: []workflows.DeliverFirstAttemptsResult{{Closed: true}}}
	runEndpoint(t, f)
	if f.batches != 1 || len(f.marked) != 0 {
		t.Fatalf("%d batches, marked %v", f.batches, f.marked)
	}
}
