package activities

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/workflows"
)

var (
	_ workflows.WebhookActivities         = (*Activities)(nil)
	_ workflows.WebhookEndpointActivities = (*Activities)(nil)
)

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
	att := sendWebhook(ctx, d, secrets, now)
	if err := a.Store.RecordWebhookAttempt(ctx, att, in.Final); err != nil {
		return workflows.DeliverWebhookResult{}, err
	}
	return workflows.DeliverWebhookResult{Delivered: att.Delivered}, nil
}

// webhookSends is how many requests one endpoint's batch has in flight; webhookChunk is how many
// it sends before it records them, which bounds what a killed worker sends again.
const (
	webhookSends = 32
	webhookChunk = 2 * webhookSends
)

// DeliverFirstAttempts sends a batch of an endpoint's new deliveries, webhookSends at a time, and
// records the attempts chunk by chunk: the 2xx ones together, each failure on its own (it may
// disable the endpoint). A failed delivery is answered for its retry workflow, as is one that
// failed in an earlier try of this activity whose workflow was never started.
func (a *Activities) DeliverFirstAttempts(ctx context.Context, in workflows.DeliverFirstAttemptsInput) (workflows.DeliverFirstAttemptsResult, error) {
	defer keepAlive(ctx)()
	fa, err := a.Store.FirstAttempts(ctx, in.EndpointRef, in.Limit, time.Now())
	var nf *domain.Error
	if errors.As(err, &nf) && nf.Code == domain.CodeNotFound {
		return workflows.DeliverFirstAttemptsResult{Closed: true}, nil
	}
	if err != nil {
		return workflows.DeliverFirstAttemptsResult{}, err
	}
	res := workflows.DeliverFirstAttemptsResult{Closed: !fa.Open, More: len(fa.Deliveries) == in.Limit}
	for chunk := range slices.Chunk(fa.Deliveries, webhookChunk) {
		if err := a.deliverChunk(ctx, chunk, fa.Secrets, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// deliverChunk sends the new deliveries of chunk and records their attempts, adding to res.
func (a *Activities) deliverChunk(ctx context.Context, chunk []store.WebhookDelivery, secrets []string,
	res *workflows.DeliverFirstAttemptsResult) error {
	attempts := make([]store.WebhookAttempt, len(chunk))
	var g errgroup.Group
	g.SetLimit(webhookSends)
	for i, d := range chunk {
		if d.Attempts > 0 { // failed before; only its workflow is missing
			continue
		}
		g.Go(func() error {
			attempts[i] = sendWebhook(ctx, d, secrets, time.Now())
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil { // the worker is stopping: its requests were cut, not refused
		return err
	}
	var delivered []store.WebhookAttempt
	for i, d := range chunk {
		switch att := attempts[i]; {
		case d.Attempts > 0:
			res.Retry = append(res.Retry, workflows.RetryDelivery{DeliveryID: d.ID, EventRef: d.EventRef, Attempts: d.Attempts})
		case att.Delivered:
			delivered = append(delivered, att)
		default:
			if err := a.Store.RecordWebhookAttempt(ctx, att, false); err != nil {
				return err
			}
			res.Retry = append(res.Retry, workflows.RetryDelivery{DeliveryID: d.ID, EventRef: d.EventRef, Attempts: 1})
		}
	}
	res.Delivered += len(delivered)
	return a.Store.RecordDelivered(ctx, delivered)
}

// MarkWebhooksRetrying records that the deliveries have their retry workflows.
func (a *Activities) MarkWebhooksRetrying(ctx context.Context, in workflows.MarkWebhooksRetryingInput) error {
	return a.Store.MarkRetrying(ctx, in.DeliveryIDs)
}

// sendWebhook makes one signed POST of d and answers the attempt to record: an answer of any
// status, or why there was none (a request that could not even be made included).
func sendWebhook(ctx context.Context, d store.WebhookDelivery, secrets []string, now time.Time) store.WebhookAttempt {
	att := store.WebhookAttempt{DeliveryID: d.ID, EndpointRef: d.EndpointRef, EventRef: d.EventRef, AttemptedAt: now}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err == nil {
		err = webhooks.Headers(req.Header, secrets, d.EventRef, now, d.Payload)
	}
	if err != nil {
		att.Error = err.Error()
		return att
	}
	req.Header.Set("User-Agent", "Tollgate-Webhooks/1")
	res, err := webhookClients()[domain.ModeOf(domain.IsSandbox(d.Mode))].Do(req)
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
	return att
}

// validUTF8 keeps an answer storable as text: a 1 KB cut may split a character.
func validUTF8(b []byte) string {
	return string(bytes.ToValidUTF8(bytes.ReplaceAll(b, []byte{0}, nil), []byte("\uFFFD")))
}
