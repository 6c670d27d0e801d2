package starter_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A delivery whose endpoint fails once is tried again on its schedule and delivered: the
// endpoint's workflow makes the first attempt and hands the delivery to a workflow of its own,
// which ends after the second attempt, both recorded. Their histories are recorded for the
// replay test, so a change to either's commands without a version guard fails there.
func TestWebhookDeliveryRetriesThenDelivers(t *testing.T) {
	s := newStack(t)
	var calls atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	we, err := s.st.CreateWebhookEndpoint(s.ctx, domain.WebhookEndpoint{MerchantRef: s.merchant, Mode: domain.ModeSandbox,
		URL: receiver.URL, EnabledEvents: []string{domain.EventCustomerCreated}, Enabled: true}, webhooks.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	s.customer("") // customer.created
	relay := &webhooks.Relay{Store: s.st, Temporal: s.tc, TaskQueue: s.c.TaskQueue, Backoff: []time.Duration{time.Second}}
	if n, err := relay.Pass(s.ctx); err != nil || n != 1 {
		t.Fatalf("relay pass: %d events, %v", n, err)
	}
	evs, _, err := s.st.ListEvents(s.ctx, s.merchant, store.EventFilter{Mode: domain.ModeSandbox, Type: domain.EventCustomerCreated},
		store.Page{Page: 1, Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("the event: %v %+v", err, evs)
	}
	id := workflows.WebhookDeliveryID(evs[0].Ref, we.Ref)
	if err := waitForWorkflow(s, id); err != nil {
		t.Fatalf("delivery %s: %v", id, err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("the receiver was called %d times, want 2 (a 503, then delivered)", got)
	}
	d, err := s.st.GetWebhookDelivery(s.ctx, deliveryOf(t, s, evs[0].Ref))
	if err != nil || d.Status != "succeeded" || d.Attempts != 2 {
		t.Fatalf("the delivery: %v %+v", err, d)
	}
	recordWorkflow(s, id, "webhook-retried")
	recordWorkflow(s, workflows.WebhookEndpointID(we.Ref), "webhook-endpoint")
}

// waitForWorkflow waits for the workflow id to be started (by another workflow) and to finish.
func waitForWorkflow(s *stack, id string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := s.tc.GetWorkflow(s.ctx, id, "").Get(s.ctx, nil)
		var missing *serviceerror.NotFound
		if !errors.As(err, &missing) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deliveryOf answers the ID of the one delivery of event.
func deliveryOf(t *testing.T, s *stack, event string) int64 {
	t.Helper()
	var id int64
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT id FROM webhook_deliveries WHERE event_id = $1`, event).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The relay wakes when Postgres announces events: with its poll an hour apart, events written
// one after another, each after the one before was delivered, are all delivered. Without the
// announcement only the pass at start and the one when its LISTEN is in place would run, and
// the third event would wait the hour.
func TestRelayWakesWhenEventsAreWritten(t *testing.T) {
	s := newStack(t)
	got := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	if _, err := s.st.CreateWebhookEndpoint(s.ctx, domain.WebhookEndpoint{MerchantRef: s.merchant, Mode: domain.ModeSandbox,
		URL: receiver.URL, EnabledEvents: []string{domain.EventCustomerCreated}, Enabled: true}, webhooks.NewSecret()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	relay := &webhooks.Relay{Store: s.st, Temporal: s.tc, TaskQueue: s.c.TaskQueue, Every: time.Hour}
	done := make(chan struct{})
	go func() { relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := range 3 {
		c, _ := s.customer("")
		evs, _, err := s.st.ListEvents(s.ctx, s.merchant, store.EventFilter{Mode: domain.ModeSandbox, ObjectRef: c.Ref},
			store.Page{Page: 1, Limit: 1})
		if err != nil || len(evs) != 1 {
			t.Fatalf("the event of %s: %v %+v", c.Ref, err, evs)
		}
		select {
		case id := <-got:
			if id != evs[0].Ref {
				t.Fatalf("event %d: delivered %s, want %s", i+1, id, evs[0].Ref)
			}
		case <-time.After(time.Minute):
			t.Fatalf("event %d (%s) not delivered within a minute, with the relay's poll an hour apart", i+1, evs[0].Ref)
		}
	}
}
