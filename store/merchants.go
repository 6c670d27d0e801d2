package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// Merchant is a tenant: every other row belongs to one.
type Merchant struct {
	Ref              string  `json:"reference"`
	Name             string  `json:"name"`
	LegalName        string  `json:"legalName"`
	SupportContact   string  `json:"supportContact"`
	TermsURL         string  `json:"termsUrl"`
	PrivacyURL       string  `json:"privacyUrl"`
	IconURL          string  `json:"iconUrl"`
	LogoURL          string  `json:"logoUrl"`
	DefaultCurrency  string  `json:"defaultCurrency"`
	DunningRetryDays []int32 `json:"dunningRetryDays"`
	GracePeriodDays  int32   `json:"gracePeriodDays"`
	// DisputeAccess is what an open dispute does to a purchase's access: DisputeSuspend or DisputeKeep.
	DisputeAccess string `json:"-"`
}

// What an open dispute does to the access of the purchase it is about (merchant setting).
const (
	DisputeSuspend = "suspend" // the default: no access until the dispute is won
	DisputeKeep    = "keep"
)

// APIKey is the merchant and mode a presented key authenticates.
type APIKey struct {
	MerchantRef string
	Mode        string // sandbox or live
}

// Sandbox reports whether the key is a sandbox key (domain.IsSandbox).
func (k APIKey) Sandbox() bool { return domain.IsSandbox(k.Mode) }

// HashAPIKey is how keys are stored: sha256 (keys are 190 random bits, so no slow hash is needed).
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// CreateMerchant inserts a merchant and returns it with a new sandbox API key (shown once).
func (s *Store) CreateMerchant(ctx context.Context, name string) (Merchant, string, error) {
	m := Merchant{Ref: domain.NewRef(domain.PrefixMerchant), Name: name}
	key := domain.NewSecretRef("sk_sandbox")
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO merchants (id, name, legal_name) VALUES ($1, $2, $2)`, m.Ref, name); err != nil {
			return err
		}
		return insertAPIKey(ctx, tx, m.Ref, key, domain.ModeSandbox)
	})
	if err != nil {
		return Merchant{}, "", fmt.Errorf("create merchant: %w", err)
	}
	m, err = s.GetMerchant(ctx, m.Ref)
	return m, key, err
}

// AddAPIKey stores a given key for a merchant (used by dev mode to keep its printed key stable).
func (s *Store) AddAPIKey(ctx context.Context, merchantRef, key, mode string) error {
	return insertAPIKey(ctx, s.Pool, merchantRef, key, mode)
}

func insertAPIKey(ctx context.Context, db DBTX, merchantRef, key, mode string) error {
	_, err := db.Exec(ctx, `INSERT INTO api_keys (key_hash, merchant_id, mode, prefix) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key_hash) DO NOTHING`, HashAPIKey(key), merchantRef, mode, key[:min(len(key), 14)])
	return err
}

// Authenticate resolves an API key; an unknown or revoked key is UNAUTHORISED.
func (s *Store) Authenticate(ctx context.Context, key string) (APIKey, error) {
	var k APIKey
	err := s.Pool.QueryRow(ctx, `SELECT merchant_id, mode FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
		HashAPIKey(key)).Scan(&k.MerchantRef, &k.Mode)
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, domain.Errorf(domain.CodeUnauthorised, "", "invalid API key")
	}
	return k, err
}

// GetMerchant loads a merchant by reference.
func (s *Store) GetMerchant(ctx context.Context, ref string) (Merchant, error) {
	var m Merchant
	err := s.Pool.QueryRow(ctx, `SELECT id, name, legal_name, support_contact, terms_url, privacy_url, icon_url,
		logo_url, default_currency, dunning_retry_days, grace_period_days, dispute_access FROM merchants WHERE id = $1`, ref).
		Scan(&m.Ref, &m.Name, &m.LegalName, &m.SupportContact, &m.TermsURL, &m.PrivacyURL, &m.IconURL,
			&m.LogoURL, &m.DefaultCurrency, &m.DunningRetryDays, &m.GracePeriodDays, &m.DisputeAccess)
	return m, notFoundIfNoRows(err, "merchant", ref)
}

// Dunning is the merchant's dunning schedule.
func (m Merchant) Dunning() domain.DunningSchedule {
	d := domain.DunningSchedule{GraceDays: int(m.GracePeriodDays)}
	for _, day := range m.DunningRetryDays {
		d.RetryDays = append(d.RetryDays, int(day))
	}
	return d
}

// DunningPatch changes a merchant's dunning schedule; nil fields keep their value.
type DunningPatch struct {
	RetryDays []int
	GraceDays *int
}

// UpdateDunning applies patch to the merchant's schedule and stores the result if it is valid
// (domain.DunningSchedule.Validate); an invalid result changes nothing. Purchases already in
// dunning keep the schedule they started with.
func (s *Store) UpdateDunning(ctx context.Context, merchant string, patch DunningPatch) (domain.DunningSchedule, error) {
	var out domain.DunningSchedule
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var m Merchant
		err := tx.QueryRow(ctx, `SELECT dunning_retry_days, grace_period_days FROM merchants WHERE id = $1 FOR UPDATE`,
			merchant).Scan(&m.DunningRetryDays, &m.GracePeriodDays)
		if err = notFoundIfNoRows(err, "merchant", merchant); err != nil {
			return err
		}
		out = m.Dunning()
		if patch.RetryDays != nil {
			out.RetryDays = patch.RetryDays
		}
		if patch.GraceDays != nil {
			out.GraceDays = *patch.GraceDays
		}
		if err := out.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE merchants SET dunning_retry_days = $2, grace_period_days = $3 WHERE id = $1`,
			merchant, out.RetryDays, out.GraceDays)
		return err
	})
	return out, err
}

// SetDisputeAccess sets what an open dispute does to access (DisputeSuspend or DisputeKeep).
func (s *Store) SetDisputeAccess(ctx context.Context, merchant, access string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE merchants SET dispute_access = $2 WHERE id = $1`, merchant, access)
	if err == nil && tag.RowsAffected() == 0 {
		return domain.NotFound("merchant", merchant)
	}
	return err
}
