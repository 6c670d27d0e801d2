package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// WebhookDeliveryWorkflow is the registered name of the workflow that delivers one event to one
// endpoint (at least once): one workflow per (event, endpoint) whose first attempt failed,
// started by its endpoint's workflow (WebhookEndpointWorkflow), and one per redelivery.
const WebhookDeliveryWorkflow = "webhook-delivery"

// WebhookActivities is what a webhook delivery asks of the world (activities.Activities).
type WebhookActivities interface {
	// DeliverWebhook makes one attempt: a signed POST of the event to the endpoint, recorded
	// (time, status, latency, the first 1 KB of the answer) whatever its outcome.
	DeliverWebhook(ctx context.Context, in DeliverWebhookInput) (DeliverWebhookResult, error)
}

type WebhookDeliveryInput struct {
	DeliveryID  int64
	EndpointRef string
	EventRef    string
	// Backoff is the wait before each retry; empty is DefaultWebhookBackoff.
	Backoff []time.Duration `json:",omitempty"`
	// Attempted is how many attempts were made before this workflow (the endpoint's batch made
	// the first): it goes on with the schedule from there, waiting first.
	Attempted int `json:",omitempty"`
}

type DeliverWebhookInput struct {
	DeliveryID int64
	Attempt    int
	// Final: the last attempt of the schedule; a failure marks the delivery failed.
	Final bool
}

type DeliverWebhookResult struct {
	Delivered bool
	// Stop: the endpoint was deleted or disabled; nothing more is sent.
	Stop bool
}

// DefaultWebhookBackoff spreads ten attempts over about three days (75 h): at once, then after
// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h and 24 h. An endpoint that keeps failing is
// disabled after five days of failures (store.DisableAfter), counted across its deliveries.
var DefaultWebhookBackoff = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour, 24 * time.Hour, 24 * time.Hour}

// WebhookDeliveryID is the workflow ID of the delivery of event to endpoint. Starting it twice
// (an endpoint's workflow that starts it again after a crash) is refused by Temporal, so one
// event has one retry schedule per endpoint; a redelivery adds a suffix.
func WebhookDeliveryID(event, endpoint string) string { return "whd-" + event + "-" + endpoint }

// One attempt is one activity execution: the schedule above is the retry policy, so the server
// never retries an attempt on its own. The start-to-close timeout outlasts the 15 s request; a
// worker killed mid-attempt costs that attempt, and the next one comes on schedule.
var webhookOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
}

var actDeliverWebhook = activityName(WebhookActivities.DeliverWebhook)

// WebhookDelivery tries the delivery on its schedule until the endpoint answers 2xx, the
// endpoint goes away, or the schedule ends.
func WebhookDelivery(ctx workflow.Context, in WebhookDeliveryInput) error {
	backoff := in.Backoff
	if len(backoff) == 0 {
		backoff = DefaultWebhookBackoff
	}
	ctx = workflow.WithActivityOptions(ctx, webhookOptions)
	for attempt := in.Attempted; attempt <= len(backoff); attempt++ {
		if attempt > 0 {
			if err := workflow.Sleep(ctx, backoff[attempt-1]); err != nil {
				return err
			}
		}
		var res DeliverWebhookResult
		err := workflow.ExecuteActivity(ctx, actDeliverWebhook, DeliverWebhookInput{DeliveryID: in.DeliveryID,
			Attempt: attempt + 1, Final: attempt == len(backoff)}).Get(ctx, &res)
		if err == nil && (res.Delivered || res.Stop) {
			return nil
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("webhook attempt failed", "delivery", in.DeliveryID, "attempt", attempt+1, "error", err)
		}
	}
	return nil
}
