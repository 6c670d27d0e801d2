package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FirstAttempts is a batch of an endpoint's deliveries that have no workflow of their own yet:
// new ones, to try for the first time, and any whose first attempt failed but whose retry
// workflow was not yet recorded as started (MarkRetrying), to hand to one.
type FirstAttempts struct {
	URL        string
	Mode       string
	Open       bool // the endpoint exists, is enabled and not disabled by failures
	Secrets    []string
	Deliveries []WebhookDelivery // oldest first; Attempts 0 for a delivery never tried
}

// FirstAttempts reads up to n of the endpoint's deliveries not yet retrying, with the endpoint.
func (s *Store) FirstAttempts(ctx context.Context, endpoint string, n int, now time.Time) (FirstAttempts, error) {
	var fa FirstAttempts
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var cur, prev string
		var until *time.Time
		err := tx.QueryRow(ctx, `SELECT url, mode, enabled AND disabled_at IS NULL AND deleted_at IS NULL, secret,
			previous_secret, previous_secret_until FROM webhook_endpoints WHERE id = $1`, endpoint).
			Scan(&fa.URL, &fa.Mode, &fa.Open, &cur, &prev, &until)
		if err != nil {
			return notFoundIfNoRows(err, "webhook endpoint", endpoint)
		}
		fa.Secrets = signingSecrets(cur, prev, until, now)
		if !fa.Open {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT id, event_id, payload::text, attempts FROM webhook_deliveries
			WHERE endpoint_id = $1 AND status = 'pending' AND NOT retrying ORDER BY id LIMIT $2`, endpoint, n)
		if err != nil {
			return err
		}
		fa.Deliveries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookDelivery, error) {
			d := WebhookDelivery{EndpointRef: endpoint, URL: fa.URL, Mode: fa.Mode, Status: "pending", Open: true}
			err := r.Scan(&d.ID, &d.EventRef, &d.Payload, &d.Attempts)
			return d, err
		})
		return err
	})
	return fa, err
}

// RecordDelivered writes attempts that were answered 2xx, in one transaction: the attempts, their
// deliveries succeeded, and their endpoints' runs of failures cleared. (A failed attempt goes
// through RecordWebhookAttempt, which may disable its endpoint.)
func (s *Store) RecordDelivered(ctx context.Context, attempts []WebhookAttempt) error {
	if len(attempts) == 0 {
		return nil
	}
	n := len(attempts)
	ids, endpoints, events := make([]int64, n), make([]string, n), make([]string, n)
	at, codes, latencies := make([]time.Time, n), make([]int32, n), make([]int32, n)
	responses := make([]string, n)
	for i, a := range attempts {
		if !a.Delivered {
			return fmt.Errorf("record delivered: attempt of delivery %d was not delivered", a.DeliveryID)
		}
		ids[i], endpoints[i], events[i], at[i] = a.DeliveryID, a.EndpointRef, a.EventRef, a.AttemptedAt
		codes[i], latencies[i], responses[i] = int32(a.StatusCode), int32(min(a.LatencyMS, 1<<31-1)), a.Response
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempted_at, status_code,
			latency_ms, response) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::int[],
			$6::int[], $7::text[])`, ids, endpoints, events, at, codes, latencies, responses); err != nil {
			return fmt.Errorf("webhook attempts: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = 'succeeded', last_error = '',
			delivered_at = now() WHERE id = ANY($1) AND status <> 'succeeded'`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`,
			endpoints)
		return err
	})
}

// MarkRetrying records that deliveries have a workflow of their own, which retries them on the
// schedule: an endpoint's batch leaves them alone from then on.
func (s *Store) MarkRetrying(ctx context.Context, ids []int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE webhook_deliveries SET retrying = true WHERE id = ANY($1) AND NOT retrying`, ids)
	return err
}
