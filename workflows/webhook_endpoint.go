package workflows

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// WebhookEndpointWorkflow is the registered name of the workflow that makes the first attempt of
// an endpoint's new deliveries, many at once: one workflow per endpoint (WebhookEndpointID),
// started or woken by the relay with SignalWebhooksPending each time it has made deliveries for
// the endpoint. A delivery whose first attempt fails is handed to a WebhookDelivery workflow of
// its own, which retries it on the schedule. So a healthy endpoint costs Temporal a few events
// per batch of up to WebhookBatch deliveries, not a workflow per delivery, and a failing one
// gets the same durable retries as before.
const WebhookEndpointWorkflow = "webhook-endpoint"

// SignalWebhooksPending tells an endpoint's workflow that it has new deliveries.
const SignalWebhooksPending = "webhooks-pending"

// WebhookBatch is how many deliveries one first-attempt activity takes.
const WebhookBatch = 500

// WebhookEndpointID is the workflow ID of endpoint's first-attempt workflow.
func WebhookEndpointID(endpoint string) string { return "whe-" + endpoint }

// WebhookEndpointActivities is what an endpoint's workflow asks of the world (activities.Activities).
type WebhookEndpointActivities interface {
	// DeliverFirstAttempts takes a batch of the endpoint's deliveries that have no workflow of
	// their own, sends each new one (concurrently), and records every attempt. It answers the
	// deliveries that still need retrying: those it just failed, and any failed earlier whose
	// retry workflow was not recorded as started.
	DeliverFirstAttempts(ctx context.Context, in DeliverFirstAttemptsInput) (DeliverFirstAttemptsResult, error)
	// MarkWebhooksRetrying records that deliveries have their retry workflows.
	MarkWebhooksRetrying(ctx context.Context, in MarkWebhooksRetryingInput) error
}

type WebhookEndpointInput struct {
	EndpointRef string
	// Backoff is the retry schedule handed to each delivery's workflow; empty is the default.
	Backoff []time.Duration `json:",omitempty"`
}

type DeliverFirstAttemptsInput struct {
	EndpointRef string
	Limit       int
}

type DeliverFirstAttemptsResult struct {
	Delivered int
	Retry     []RetryDelivery `json:",omitempty"`
	// More: the batch was full; another may be waiting.
	More bool
	// Closed: the endpoint is deleted or disabled; nothing was sent.
	Closed bool
}

// RetryDelivery is a delivery to hand to a workflow of its own, after Attempts attempts.
type RetryDelivery struct {
	DeliveryID int64
	EventRef   string
	Attempts   int
}

type MarkWebhooksRetryingInput struct {
	DeliveryIDs []int64
}

var (
	actDeliverFirstAttempts = activityName(WebhookEndpointActivities.DeliverFirstAttempts)
	actMarkWebhooksRetrying = activityName(WebhookEndpointActivities.MarkWebhooksRetrying)
)

// A batch's activity is retried until it completes: attempts are recorded chunk by chunk, so a
// worker killed mid-batch costs at most the chunk it had not recorded, sent again by the next
// try (at least once). The heartbeat notices the kill within seconds; the start-to-close timeout
// outlasts a batch to an endpoint that takes the full 15 s on every request (16 rounds of 32).
var endpointBatchOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    20 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
}

const (
	// endpointIdle is how long an endpoint's workflow waits for more deliveries before it ends;
	// the relay's next signal starts it again.
	endpointIdle = 5 * time.Minute
	// endpointPasses bounds a run's history: after that many batches it continues as new.
	endpointPasses = 200
)

// WebhookEndpoint sends batches of first attempts while there are deliveries, hands the failed
// ones to their retry workflows, and waits for the relay's next signal, ending once idle.
func WebhookEndpoint(ctx workflow.Context, in WebhookEndpointInput) error {
	ctx = workflow.WithActivityOptions(ctx, endpointBatchOptions)
	pending := workflow.GetSignalChannel(ctx, SignalWebhooksPending)
	for pass := 0; ; pass++ {
		var res DeliverFirstAttemptsResult
		if err := workflow.ExecuteActivity(ctx, actDeliverFirstAttempts,
			DeliverFirstAttemptsInput{EndpointRef: in.EndpointRef, Limit: WebhookBatch}).Get(ctx, &res); err != nil {
			return err
		}
		if err := startRetries(ctx, in, res.Retry); err != nil {
			return err
		}
		// signals that came during the pass may be for deliveries the pass did not see
		woken := drain(pending)
		if res.Closed && !woken {
			return nil
		}
		if pass+1 >= endpointPasses || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookEndpointWorkflow, in)
		}
		if res.More || woken {
			continue
		}
		if !waitForSignal(ctx, pending, endpointIdle) {
			return nil
		}
	}
}

// startRetries starts a WebhookDelivery workflow for each delivery (one already started under its
// ID, by an earlier try of this step, is left as it is), then records them as retrying.
func startRetries(ctx workflow.Context, in WebhookEndpointInput, retry []RetryDelivery) error {
	if len(retry) == 0 {
		return nil
	}
	futures := make([]workflow.ChildWorkflowFuture, len(retry))
	for i, r := range retry {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            WebhookDeliveryID(r.EventRef, in.EndpointRef),
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON, // a retry outlives this run
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, WebhookDeliveryWorkflow, WebhookDeliveryInput{DeliveryID: r.DeliveryID,
			EndpointRef: in.EndpointRef, EventRef: r.EventRef, Backoff: in.Backoff, Attempted: r.Attempts})
	}
	ids := make([]int64, len(retry))
	for i, f := range futures {
		var started *temporal.ChildWorkflowExecutionAlreadyStartedError
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !errors.As(err, &started) {
			return err
		}
		ids[i] = retry[i].DeliveryID
	}
	return workflow.ExecuteActivity(ctx, actMarkWebhooksRetrying, MarkWebhooksRetryingInput{DeliveryIDs: ids}).Get(ctx, nil)
}

// drain takes every signal waiting on ch and reports whether there was any.
func drain(ch workflow.ReceiveChannel) bool {
	got := false
	for ch.ReceiveAsync(nil) {
		got = true
	}
	return got
}

// waitForSignal waits up to idle for a signal on ch, taking it and any that follow it.
func waitForSignal(ctx workflow.Context, ch workflow.ReceiveChannel, idle time.Duration) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	got := false
	workflow.NewSelector(ctx).
		AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); got = true }).
		AddFuture(workflow.NewTimer(tctx, idle), func(workflow.Future) {}).
		Select(ctx)
	return drain(ch) || got
}
