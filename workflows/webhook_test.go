package workflows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/tollgate-billing/tollgate/workflows"
)

// fakeWebhook answers attempts from a script: each entry is one attempt's result.
type fakeWebhook struct {
	env    *testsuite.TestWorkflowEnvironment
	script []workflows.DeliverWebhookResult
	calls  []workflows.DeliverWebhookInput
	at     []time.Time
}

func (f *fakeWebhook) DeliverWebhook(_ context.Context, in workflows.DeliverWebhookInput) (workflows.DeliverWebhookResult, error) {
	f.calls = append(f.calls, in)
	f.at = append(f.at, f.env.Now())
	if len(f.calls) > len(f.script) {
		return workflows.DeliverWebhookResult{}, nil
	}
	return f.script[len(f.calls)-1], nil
}

func runDelivery(t *testing.T, script ...workflows.DeliverWebhookResult) *fakeWebhook {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	f := &fakeWebhook{env: env, script: script}
	env.RegisterActivity(f)
	env.ExecuteWorkflow(workflows.WebhookDelivery, workflows.WebhookDeliveryInput{DeliveryID: 7, EndpointRef: "we_1", EventRef: "evt_1"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	return f
}

// A delivery that never succeeds is tried at once and then after each wait of the default
// schedule (about three days in all); only the last attempt is final.
func TestWebhookDeliveryRetriesOnTheSchedule(t *testing.T) {
	f := runDelivery(t)
	if len(f.calls) != len(workflows.DefaultWebhookBackoff)+1 {
		t.Fatalf("%d attempts", len(f.calls))
	}
	var waits []time.Duration
	for i := 1; i < len(f.at); i++ {
		waits = append(waits, f.at[i].Sub(f.at[i-1]).Round(time.Second))
	}
	if !slices.Equal(waits, workflows.DefaultWebhookBackoff) {
		t.Fatalf("waits %v", waits)
	}
	for i, c := range f.calls {
		if c.DeliveryID != 7 || c.Attempt != i+1 || c.Final != (i == len(f.calls)-1) {
			t.Fatalf("attempt %d: %+v", i+1, c)
		}
	}
	if total := f.at[len(f.at)-1].Sub(f.at[0]); total < 60*time.Hour || total > 84*time.Hour {
		t.Fatalf("the schedule spans %v, not about three days", total)
	}
}

// A 2xx ends the delivery; so does an endpoint deleted or disabled meanwhile.
func TestWebhookDeliveryEndsOnSuccessOrAGoneEndpoint(t *testing.T) {
	failed := workflows.DeliverWebhookResult{}
	if f := runDelivery(t, failed, failed, workflows.DeliverWebhookResult{Delivered: true}); len(f.calls) != 3 {
		t.Fatalf("delivered on the third attempt, tried %d times", len(f.calls))
	}
	if f := runDelivery(t, failed, workflows.DeliverWebhookResult{Stop: true}); len(f.calls) != 2 {
		t.Fatalf("stopped on the second attempt, tried %d times", len(f.calls))
	}
}
