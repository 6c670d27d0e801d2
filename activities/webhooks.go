package activities

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/workflows"
)

var _ workflows.WebhookActivities = (*Activities)(nil)

// webhookClients send deliveries: the live one refuses non-public addresses when it connects.
// They are made at the first delivery, after the process has turned tracing on (or not).
var webhookClients = sync.OnceValue(func() map[string]*http.Client {
	return map[string]*http.Client{
		domain.ModeLive:    webhooks.NewClient(domain.ModeLive),
		domain.ModeSandbox: webhooks.NewClient(domain.ModeSandbox),
	}
})

// DeliverWebhook makes one attempt of a delivery and records it. A delivery that succeeded
// before (an attempt whose answer the workflow never saw) is not sent again.
func (a *Activities) DeliverWebhook(ctx context.Context, in workflows.DeliverWebhookInput) (workflows.DeliverWebhookResult, error) {
	d, err := a.Store.GetWebhookDelivery(ctx, in.DeliveryID)
	if err != nil {
		return workflows.DeliverWebhookResult{}, temporalError(err)
	}
	if d.Status == "succeeded" {
		return workflows.DeliverWebhookResult{Delivered: true}, nil
	}
	if !d.Open {
		return workflows.DeliverWebhookResult{Stop: true}, nil
	}
	now := time.Now()
	secrets, err := a.Store.WebhookSecrets(ctx, d.EndpointRef, now)
	if err != nil {
		return workflows.DeliverWebhookResult{}, temporalError(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return workflows.DeliverWebhookResult{}, err
	}
	if err := webhooks.Headers(req.Header, secrets, d.EventRef, now, d.Payload); err != nil {
		return workflows.DeliverWebhookResult{}, err
	}
	req.Header.Set("User-Agent", "Tollgate-Webhooks/1")
	client := webhookClients()[domain.ModeOf(domain.IsSandbox(d.Mode))]
	att := store.WebhookAttempt{DeliveryID: d.ID, EndpointRef: d.EndpointRef, EventRef: d.EventRef, AttemptedAt: now}
	res, err := client.Do(req)
	if err != nil {
		att.Error = err.Error()
	} else {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
		res.Body.Close()
		att.StatusCode, att.Response = res.StatusCode, validUTF8(body)
		att.Delivered = res.StatusCode >= 200 && res.StatusCode < 300
	}
	att.LatencyMS = time.Since(now).Milliseconds()
	if err := a.Store.RecordWebhookAttempt(ctx, att, in.Final); err != nil {
		return workflows.DeliverWebhookResult{}, err
	}
	return workflows.DeliverWebhookResult{Delivered: att.Delivered}, nil
}

// validUTF8 keeps an answer storable as text: a 1 KB cut may split a character.
func validUTF8(b []byte) string {
	return string(bytes.ToValidUTF8(bytes.ReplaceAll(b, []byte{0}, nil), []byte("\uFFFD")))
}
