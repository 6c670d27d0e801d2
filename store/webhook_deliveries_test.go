package store_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// An event is claimed once per endpoint that wants it; an endpoint failing every attempt for
// five days is disabled at the attempt that makes it five days, with one
// webhook_endpoint.disabled event, and takes no more events; a success before that clears the
// run of failures.
func TestAnEndpointFailingForFiveDaysIsDisabled(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "M")
	ep := func(events ...string) domain.WebhookEndpoint {
		e, err := st.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: m, Mode: domain.ModeSandbox,
			URL: "http://127.0.0.1:9/h", EnabledEvents: events, Enabled: true}, "whsec_x")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	all, other := ep("*"), ep(domain.EventPurchaseRenewed)
	if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: "a@x.io"}); err != nil {
		t.Fatal(err)
	}
	ds, evs, err := st.ClaimEvents(ctx, 10)
	if err != nil || len(evs) != 1 || len(ds) != 1 || ds[0].EndpointRef != all.Ref {
		t.Fatalf("claim: %v %v %v (only %s wants customer.created, not %s)", ds, evs, err, all.Ref, other.Ref)
	}
	if err := st.MarkDispatched(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if ds2, evs2, err := st.ClaimEvents(ctx, 10); err != nil || len(ds2)+len(evs2) != 0 {
		t.Fatalf("claimed again: %v %v %v", ds2, evs2, err)
	}

	t0 := time.Now().Add(-6 * 24 * time.Hour)
	fail := func(at time.Time) {
		t.Helper()
		if err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: ds[0].ID, EndpointRef: all.Ref, EventRef: ds[0].EventRef,
			AttemptedAt: at, StatusCode: 500}, false); err != nil {
			t.Fatal(err)
		}
	}
	disabledEvents := func() int {
		l, _, err := st.ListEvents(ctx, m, store.EventFilter{Mode: domain.ModeSandbox, Type: domain.EventWebhookEndpointDisabled}, store.Page{Page: 1, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	fail(t0)
	if err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: ds[0].ID, EndpointRef: all.Ref, EventRef: ds[0].EventRef,
		AttemptedAt: t0.Add(24 * time.Hour), StatusCode: 204, Delivered: true}, false); err != nil {
		t.Fatal(err)
	}
	fail(t0.Add(2 * 24 * time.Hour)) // a new run of failures starts here
	fail(t0.Add(6 * 24 * time.Hour))
	if e, _ := st.GetWebhookEndpoint(ctx, m, domain.ModeSandbox, all.Ref); e.DisabledAt != nil || disabledEvents() != 0 {
		t.Fatalf("disabled after four days of failures: %+v", e)
	}
	fail(t0.Add(7*24*time.Hour + time.Second))
	fail(t0.Add(7*24*time.Hour + 2*time.Second))
	e, _ := st.GetWebhookEndpoint(ctx, m, domain.ModeSandbox, all.Ref)
	if e.DisabledAt == nil || disabledEvents() != 1 {
		t.Fatalf("not disabled once after five days of failures: %+v, %d events", e, disabledEvents())
	}
	if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: "b@x.io"}); err != nil {
		t.Fatal(err)
	}
	if ds, _, err := st.ClaimEvents(ctx, 10); err != nil || len(ds) != 0 {
		t.Fatalf("a disabled endpoint takes deliveries: %v %v", ds, err)
	}
	l, total, err := st.ListWebhookAttempts(ctx, m, domain.ModeSandbox, all.Ref, store.Page{Page: 1, Limit: 10})
	if err != nil || total != 6 || l[0].StatusCode != 500 || l[0].EventRef != ds[0].EventRef || l[0].EventType != domain.EventCustomerCreated {
		t.Fatalf("attempts: %d %+v %v", total, l, err)
	}
}

// Events past the retention are deleted with their deliveries and attempts; younger ones stay.
func TestPruneEventsDeletesOnlyThoseOfMoreThanThirtyDays(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "M")
	if _, err := st.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: m, Mode: domain.ModeSandbox,
		URL: "http://127.0.0.1:9/h", EnabledEvents: []string{"*"}, Enabled: true}, "whsec_x"); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"old@x.io", "new@x.io"} {
		if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	ds, _, err := st.ClaimEvents(ctx, 10)
	if err != nil || len(ds) != 2 {
		t.Fatal(ds, err)
	}
	for _, d := range ds {
		if err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: d.ID, EndpointRef: d.EndpointRef, EventRef: d.EventRef,
			AttemptedAt: time.Now(), StatusCode: 200, Delivered: true}, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE events SET created_at = now() - interval '31 days' WHERE id = $1`, ds[0].EventRef); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneEvents(ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	var events, deliveries, attempts int
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM webhook_deliveries),
		(SELECT count(*) FROM webhook_attempts)`).Scan(&events, &deliveries, &attempts); err != nil {
		t.Fatal(err)
	}
	if events != 1 || deliveries != 1 || attempts != 1 {
		t.Fatalf("left %d events, %d deliveries, %d attempts", events, deliveries, attempts)
	}
}

// After a rotation both secrets sign for 24 hours, so a receiver knowing either verifies (with
// the Standard Webhooks library); after the overlap only the new one signs.
func TestARotatedSecretSignsOnlyDuringTheOverlap(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "M")
	old := webhooks.NewSecret()
	e, err := st.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: m, Mode: domain.ModeSandbox,
		URL: "http://127.0.0.1:9/h", EnabledEvents: []string{"*"}, Enabled: true}, old)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := st.RotateWebhookSecret(ctx, m, domain.ModeSandbox, e.Ref, webhooks.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	verifies := func(at time.Time, secret string) bool {
		t.Helper()
		secrets, err := st.WebhookSecrets(ctx, e.Ref, at)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"reference":"evt_1"}`)
		h := http.Header{}
		if err := webhooks.Headers(h, secrets, "evt_1", at, body); err != nil {
			t.Fatal(err)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return wh.VerifyIgnoringTimestamp(body, h) == nil
	}
	now := time.Now()
	if !verifies(now, old) || !verifies(now, rotated.Secret) || !verifies(now.Add(23*time.Hour), old) {
		t.Fatal("during the overlap both secrets must verify")
	}
	if after := now.Add(25 * time.Hour); verifies(after, old) || !verifies(after, rotated.Secret) {
		t.Fatal("after the overlap only the new secret must verify")
	}
}
