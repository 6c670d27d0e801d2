package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/workflows"
)

// An endpoint's batch sends each new delivery once and records it; a delivery that failed in an
// earlier try of the batch, whose retry workflow was never started (the worker died between),
// is answered for one without being sent again; once marked retrying, no batch takes it.
func TestFirstAttemptsSendNewDeliveriesAndHandOnEarlierFailures(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	a := &activities.Activities{Store: st}
	merchant, _ := testenv.Merchant(t, st, "Hooks")
	var calls atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	we, err := st.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: merchant, Mode: domain.ModeSandbox,
		URL: receiver.URL, EnabledEvents: []string{domain.EventCustomerCreated}, Enabled: true}, webhooks.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.ClaimEvents(ctx, 10); err != nil {
		t.Fatal(err)
	}
	in := workflows.DeliverFirstAttemptsInput{EndpointRef: we.Ref, Limit: 10}
	first, err := a.DeliverFirstAttempts(ctx, in)
	if err != nil || first.Delivered != 2 || len(first.Retry) != 1 || first.Retry[0].Attempts != 1 || first.More || first.Closed {
		t.Fatalf("first batch: %v %+v", err, first)
	}
	// the retry workflow was not recorded as started: the next batch hands the failure on again, unsent
	again, err := a.DeliverFirstAttempts(ctx, in)
	if err != nil || again.Delivered != 0 || len(again.Retry) != 1 || again.Retry[0] != first.Retry[0] || calls.Load() != 3 {
		t.Fatalf("second batch: %v %+v, %d requests", err, again, calls.Load())
	}
	if err := a.MarkWebhooksRetrying(ctx, workflows.MarkWebhooksRetryingInput{DeliveryIDs: []int64{first.Retry[0].DeliveryID}}); err != nil {
		t.Fatal(err)
	}
	last, err := a.DeliverFirstAttempts(ctx, in)
	if err != nil || last.Delivered != 0 || len(last.Retry) != 0 || calls.Load() != 3 {
		t.Fatalf("after marking: %v %+v, %d requests", err, last, calls.Load())
	}
	d, err := st.GetWebhookDelivery(ctx, first.Retry[0].DeliveryID)
	if err != nil || d.Status != "pending" || d.Attempts != 1 {
		t.Fatalf("the failed delivery: %v %+v", err, d)
	}
}
