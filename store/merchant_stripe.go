package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// MerchantStripe is a merchant's own Stripe account as stored (migration 00170): its secret key
// and webhook secret sealed by the caller (internal/sealed), never in clear here.
type MerchantStripe struct {
	MerchantRef         string
	SecretKeySealed     string
	SecretKeyHint       string // sk_live_…abcd
	PublishableKey      string
	WebhookSecretSealed string // "": none
	Livemode            bool
	UpdatedAt           time.Time
}

const merchantStripeColumns = `merchant_id, secret_key_sealed, secret_key_hint, publishable_key, webhook_secret_sealed, livemode, updated_at`

func scanMerchantStripe(row pgx.Row) (MerchantStripe, error) {
	var m MerchantStripe
	err := row.Scan(&m.MerchantRef, &m.SecretKeySealed, &m.SecretKeyHint, &m.PublishableKey, &m.WebhookSecretSealed, &m.Livemode, &m.UpdatedAt)
	return m, err
}

// SetMerchantStripe stores a merchant's Stripe account, replacing the one it had. keepWebhook
// keeps the stored webhook secret (m's is then ignored). An unknown merchant is a 404.
func (s *Store) SetMerchantStripe(ctx context.Context, m MerchantStripe, keepWebhook bool) (MerchantStripe, error) {
	out, err := scanMerchantStripe(s.Pool.QueryRow(ctx, `INSERT INTO merchant_stripe AS ms (merchant_id, secret_key_sealed, secret_key_hint,
			publishable_key, webhook_secret_sealed, livemode)
		SELECT id, $2, $3, $4, $5, $6 FROM merchants WHERE id = $1
		ON CONFLICT (merchant_id) DO UPDATE SET secret_key_sealed = excluded.secret_key_sealed, secret_key_hint = excluded.secret_key_hint,
			publishable_key = excluded.publishable_key, livemode = excluded.livemode, updated_at = now(),
			webhook_secret_sealed = CASE WHEN $7 THEN ms.webhook_secret_sealed ELSE excluded.webhook_secret_sealed END
		RETURNING `+merchantStripeColumns,
		m.MerchantRef, m.SecretKeySealed, m.SecretKeyHint, m.PublishableKey, m.WebhookSecretSealed, m.Livemode, keepWebhook))
	return out, notFoundIfNoRows(err, "merchant", m.MerchantRef)
}

// MerchantStripeOf is the merchant's own Stripe account; ok is false when it has none (it uses
// the deployment's).
func (s *Store) MerchantStripeOf(ctx context.Context, merchant string) (m MerchantStripe, ok bool, err error) {
	m, err = scanMerchantStripe(s.Pool.QueryRow(ctx, `SELECT `+merchantStripeColumns+` FROM merchant_stripe WHERE merchant_id = $1`, merchant))
	if errors.Is(err, pgx.ErrNoRows) {
		return MerchantStripe{}, false, nil
	}
	return m, err == nil, err
}

// ListMerchantStripe is every merchant's own Stripe account (for re-encryption: a few rows).
func (s *Store) ListMerchantStripe(ctx context.Context) ([]MerchantStripe, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+merchantStripeColumns+` FROM merchant_stripe ORDER BY merchant_id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MerchantStripe, error) { return scanMerchantStripe(r) })
}

// ResealMerchantStripe replaces a row's sealed values with the same secrets sealed anew, only
// if the row still holds what was read (was): a concurrent set-stripe wins. It answers whether
// the row was replaced.
func (s *Store) ResealMerchantStripe(ctx context.Context, was MerchantStripe, secretKeySealed, webhookSecretSealed string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE merchant_stripe SET secret_key_sealed = $4, webhook_secret_sealed = $5
		WHERE merchant_id = $1 AND secret_key_sealed = $2 AND webhook_secret_sealed = $3`,
		was.MerchantRef, was.SecretKeySealed, was.WebhookSecretSealed, secretKeySealed, webhookSecretSealed)
	return tag.RowsAffected() == 1, err
}

// RemoveMerchantStripe forgets the merchant's own Stripe account: it uses the deployment's
// again. An unknown merchant is a 404; one without an account of its own is left as it is.
func (s *Store) RemoveMerchantStripe(ctx context.Context, merchant string) error {
	if _, err := s.GetMerchant(ctx, merchant); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `DELETE FROM merchant_stripe WHERE merchant_id = $1`, merchant)
	return err
}
