package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// SecretOverlap is how long a rotated secret keeps signing beside the new one.
const SecretOverlap = 24 * time.Hour

const endpointCols = `id, merchant_id, mode, url, events, description, enabled, disabled_at, failing_since, created_at, updated_at`

func scanEndpoint(row pgx.Row) (domain.WebhookEndpoint, error) {
	var e domain.WebhookEndpoint
	err := row.Scan(&e.Ref, &e.MerchantRef, &e.Mode, &e.URL, &e.EnabledEvents, &e.Description, &e.Enabled, &e.DisabledAt,
		&e.FailingSince, &e.CreatedAt, &e.UpdatedAt)
	return e, err
}

// CreateWebhookEndpoint stores e (Ref assigned) with its signing secret, answered once here.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e domain.WebhookEndpoint, secret string) (domain.WebhookEndpoint, error) {
	out, err := scanEndpoint(s.Pool.QueryRow(ctx, `INSERT INTO webhook_endpoints (id, merchant_id, mode, url, events,
		description, enabled, secret) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING `+endpointCols,
		domain.NewRef(domain.PrefixWebhookEndpoint), e.MerchantRef, e.Mode, e.URL, e.EnabledEvents, e.Description, e.Enabled, secret))
	if err != nil {
		return out, fmt.Errorf("create webhook endpoint: %w", err)
	}
	out.Secret = secret
	return out, nil
}

// GetWebhookEndpoint finds an endpoint of merchant in mode; another merchant's or mode's, or a
// deleted one, is not found.
func (s *Store) GetWebhookEndpoint(ctx context.Context, merchant, mode, ref string) (domain.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.Pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints
		WHERE merchant_id = $1 AND mode = $2 AND id = $3 AND deleted_at IS NULL`, merchant, mode, ref))
	return e, notFoundIfNoRows(err, "webhook endpoint", ref)
}

// ListWebhookEndpoints returns one page of the merchant's endpoints of mode, newest first.
func (s *Store) ListWebhookEndpoints(ctx context.Context, merchant, mode string, p Page) ([]domain.WebhookEndpoint, int, error) {
	q := newWhere("merchant_id = $1 AND deleted_at IS NULL", merchant)
	q.add("mode = $%d", mode)
	return listPage(ctx, s.Pool, "webhook_endpoints", endpointCols, q, "created_at DESC, id DESC", p, scanEndpoint)
}

// WebhookEndpointPatch changes the fields that are not nil.
type WebhookEndpointPatch struct {
	URL           *string
	EnabledEvents []string
	Description   *string
	Enabled       *bool
}

// UpdateWebhookEndpoint applies patch. Enabling an endpoint Tollgate disabled clears its
// failures: deliveries start again.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, merchant, mode, ref string, patch WebhookEndpointPatch) (domain.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.Pool.QueryRow(ctx, `UPDATE webhook_endpoints SET url = coalesce($4, url),
		events = coalesce($5, events), description = coalesce($6, description), enabled = coalesce($7, enabled),
		disabled_at = CASE WHEN $7 THEN NULL ELSE disabled_at END,
		failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END, updated_at = now()
		WHERE merchant_id = $1 AND mode = $2 AND id = $3 AND deleted_at IS NULL RETURNING `+endpointCols,
		merchant, mode, ref, patch.URL, patch.EnabledEvents, patch.Description, patch.Enabled))
	return e, notFoundIfNoRows(err, "webhook endpoint", ref)
}

// DeleteWebhookEndpoint removes an endpoint: nothing more is delivered to it; its deliveries'
// records stay.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, merchant, mode, ref string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE webhook_endpoints SET deleted_at = now(), enabled = false
		WHERE merchant_id = $1 AND mode = $2 AND id = $3 AND deleted_at IS NULL`, merchant, mode, ref)
	if err == nil && tag.RowsAffected() == 0 {
		return domain.NotFound("webhook endpoint", ref)
	}
	return err
}

// RotateWebhookSecret replaces the endpoint's secret with secret; the old one keeps signing
// beside it for SecretOverlap.
func (s *Store) RotateWebhookSecret(ctx context.Context, merchant, mode, ref, secret string) (domain.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.Pool.QueryRow(ctx, `UPDATE webhook_endpoints SET previous_secret = secret,
		previous_secret_until = now() + $5::interval, secret = $4, updated_at = now()
		WHERE merchant_id = $1 AND mode = $2 AND id = $3 AND deleted_at IS NULL RETURNING `+endpointCols,
		merchant, mode, ref, secret, SecretOverlap.String()))
	if err != nil {
		return e, notFoundIfNoRows(err, "webhook endpoint", ref)
	}
	e.Secret = secret
	return e, nil
}

// WebhookSecrets are the secrets an endpoint's deliveries are signed with now: the current one,
// and the one before it while the overlap lasts.
func (s *Store) WebhookSecrets(ctx context.Context, endpoint string, now time.Time) ([]string, error) {
	var cur, prev string
	var until *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT secret, previous_secret, previous_secret_until FROM webhook_endpoints WHERE id = $1`,
		endpoint).Scan(&cur, &prev, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.NotFound("webhook endpoint", endpoint)
	}
	if err != nil {
		return nil, err
	}
	return signingSecrets(cur, prev, until, now), nil
}

// signingSecrets is the current secret, and the previous one while its overlap lasts at now.
func signingSecrets(cur, prev string, until *time.Time, now time.Time) []string {
	if prev != "" && until != nil && now.Before(*until) {
		return []string{cur, prev}
	}
	return []string{cur}
}
