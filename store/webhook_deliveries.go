package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// DisableAfter is how long an endpoint may fail every delivery before Tollgate disables it.
const DisableAfter = 5 * 24 * time.Hour

// PendingDelivery is a delivery the relay hands to a workflow.
type PendingDelivery struct {
	ID          int64
	EndpointRef string
	EventRef    string
}

// ClaimEvents takes up to n events not yet dispatched, oldest first, and makes a delivery row
// for each endpoint of the event's merchant and mode that wants it (once: a repeated claim
// after a crash finds the rows it made). It answers the deliveries of those events and the
// events, to mark dispatched once the endpoints' workflows are woken (webhooks.Relay).
func (s *Store) ClaimEvents(ctx context.Context, n int) (deliveries []PendingDelivery, events []string, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM events WHERE dispatched_at IS NULL ORDER BY created_at, id
			LIMIT $1 FOR UPDATE SKIP LOCKED`, n)
		if err != nil {
			return err
		}
		if events, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(events) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload)
			SELECT w.id, e.id, e.type, jsonb_build_object('reference', e.id, 'type', e.type, 'mode', e.mode,
				'objectType', e.object_type, 'objectRef', e.object_id, 'object', e.object, 'createdAt', e.created_at)
			FROM events e JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id AND w.mode = e.mode
			WHERE e.id = ANY($1) AND w.enabled AND w.disabled_at IS NULL AND w.deleted_at IS NULL
				AND (w.events @> ARRAY['*'] OR w.events @> ARRAY[e.type])
			ON CONFLICT (endpoint_id, event_id) DO NOTHING`, events); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT id, endpoint_id, event_id FROM webhook_deliveries WHERE event_id = ANY($1)
			AND status = 'pending' ORDER BY id`, events)
		if err != nil {
			return err
		}
		deliveries, err = pgx.CollectRows(rows, pgx.RowToStructByPos[PendingDelivery])
		return err
	})
	return deliveries, events, err
}

// MarkDispatched records that the events' deliveries have their workflows.
func (s *Store) MarkDispatched(ctx context.Context, events []string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE events SET dispatched_at = now() WHERE id = ANY($1) AND dispatched_at IS NULL`, events)
	return err
}

// Redeliveries makes (or reopens) the deliveries of one event of merchant and mode: to one
// endpoint, or to every endpoint that wants it when endpoint is empty. Each gets a workflow of
// its own (webhooks.Relay.Redeliver), so it is marked retrying: no endpoint batch sends it too.
func (s *Store) Redeliveries(ctx context.Context, merchant, mode, event, endpoint string) ([]PendingDelivery, error) {
	var out []PendingDelivery
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, retrying)
			SELECT w.id, e.id, e.type, jsonb_build_object('reference', e.id, 'type', e.type, 'mode', e.mode,
				'objectType', e.object_type, 'objectRef', e.object_id, 'object', e.object, 'createdAt', e.created_at), true
			FROM events e JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id AND w.mode = e.mode
			WHERE e.merchant_id = $1 AND e.mode = $2 AND e.id = $3 AND w.deleted_at IS NULL
				AND (($4 = '' AND w.enabled AND w.disabled_at IS NULL AND (w.events @> ARRAY['*'] OR w.events @> ARRAY[e.type]))
					OR w.id = $4)
			ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'pending', delivered_at = NULL, retrying = true
			RETURNING id, endpoint_id, event_id`, merchant, mode, event, endpoint)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[PendingDelivery])
		return err
	})
	return out, err
}

// WebhookDelivery is what one attempt needs: where to, in which mode, what, and whether the
// endpoint still takes deliveries.
type WebhookDelivery struct {
	ID          int64
	EndpointRef string
	EventRef    string
	URL         string
	Mode        string
	Payload     []byte
	Status      string // pending, succeeded, failed
	Open        bool   // the endpoint exists, is enabled and not disabled by failures
	Attempts    int    // attempts made so far
}

// GetWebhookDelivery reads a delivery with its endpoint.
func (s *Store) GetWebhookDelivery(ctx context.Context, id int64) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := s.Pool.QueryRow(ctx, `SELECT d.id, d.endpoint_id, d.event_id, w.url, w.mode, d.payload::text, d.status,
		w.enabled AND w.disabled_at IS NULL AND w.deleted_at IS NULL, d.attempts
		FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1`, id).
		Scan(&d.ID, &d.EndpointRef, &d.EventRef, &d.URL, &d.Mode, &d.Payload, &d.Status, &d.Open, &d.Attempts)
	return d, notFoundIfNoRows(err, "webhook delivery", fmt.Sprint(id))
}

// WebhookAttempt is one try of a delivery as the endpoint's deliveries list shows it.
type WebhookAttempt struct {
	DeliveryID  int64     `json:"-"`
	EndpointRef string    `json:"-"`
	EventRef    string    `json:"eventRef"`
	EventType   string    `json:"eventType"`
	AttemptedAt time.Time `json:"attemptedAt"`
	StatusCode  int       `json:"statusCode"` // 0: no answer (Error says why)
	LatencyMS   int64     `json:"latencyMs"`
	Response    string    `json:"response"` // the first 1 KB of the answer
	Error       string    `json:"error,omitempty"`
	Delivered   bool      `json:"delivered"`
}

// RecordWebhookAttempt writes an attempt and its consequences in one transaction: the delivery
// succeeded (or failed, on the final attempt), and the endpoint's run of failures cleared or
// grown — an endpoint failing for DisableAfter is disabled, with a webhook_endpoint.disabled
// event.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, final bool) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempted_at, status_code,
			latency_ms, response, error) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, a.DeliveryID, a.EndpointRef, a.EventRef, a.AttemptedAt,
			a.StatusCode, a.LatencyMS, a.Response, a.Error); err != nil {
			return fmt.Errorf("webhook attempt: %w", err)
		}
		status := "pending"
		switch {
		case a.Delivered:
			status = "succeeded"
		case final:
			status = "failed"
		}
		lastError := a.Error
		if lastError == "" && !a.Delivered {
			lastError = fmt.Sprintf("answered %d", a.StatusCode)
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, last_error = $3,
			delivered_at = CASE WHEN $4 THEN now() ELSE delivered_at END WHERE id = $1 AND status <> 'succeeded'`,
			a.DeliveryID, status, lastError, a.Delivered); err != nil {
			return err
		}
		if a.Delivered {
			_, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, a.EndpointRef)
			return err
		}
		var wasDisabled bool
		if err := tx.QueryRow(ctx, `SELECT disabled_at IS NOT NULL FROM webhook_endpoints WHERE id = $1 FOR UPDATE`,
			a.EndpointRef).Scan(&wasDisabled); err != nil {
			return err
		}
		e, err := scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2),
			disabled_at = CASE WHEN coalesce(failing_since, $2) <= $2 - $3::interval THEN coalesce(disabled_at, $2) ELSE disabled_at END
			WHERE id = $1 RETURNING `+endpointCols, a.EndpointRef, a.AttemptedAt, DisableAfter.String()))
		if err != nil || wasDisabled || e.DisabledAt == nil {
			return err
		}
		return insertEvent(ctx, tx, newEvent{merchant: e.MerchantRef, mode: e.Mode, typ: domain.EventWebhookEndpointDisabled,
			objectType: "webhook_endpoint", objectRef: e.Ref, object: e})
	})
}

// ListWebhookAttempts returns one page of an endpoint's attempts, newest first.
func (s *Store) ListWebhookAttempts(ctx context.Context, merchant, mode, endpoint string, p Page) ([]WebhookAttempt, int, error) {
	if _, err := s.GetWebhookEndpoint(ctx, merchant, mode, endpoint); err != nil {
		return nil, 0, err
	}
	q := newWhere("a.endpoint_id = $1", endpoint)
	return listPage(ctx, s.Pool, "webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id",
		`a.delivery_id, a.endpoint_id, a.event_id, d.event_type, a.attempted_at, a.status_code, a.latency_ms, a.response, a.error,
		a.status_code BETWEEN 200 AND 299`, q, "a.id DESC", p, func(r pgx.Row) (WebhookAttempt, error) {
			var a WebhookAttempt
			err := r.Scan(&a.DeliveryID, &a.EndpointRef, &a.EventRef, &a.EventType, &a.AttemptedAt, &a.StatusCode, &a.LatencyMS,
				&a.Response, &a.Error, &a.Delivered)
			return a, err
		})
}
