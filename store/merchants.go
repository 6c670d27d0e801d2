package store

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	DisputeAccess string    `json:"-"`
	CreatedAt     time.Time `json:"createdAt"`
}

// What an open dispute does to the access of the purchase it is about (merchant setting).
const (
	DisputeSuspend = "suspend" // the default: no access until the dispute is won
	DisputeKeep    = "keep"
)

// CreateMerchant inserts a merchant and returns it with a new sandbox API key (shown once).
func (s *Store) CreateMerchant(ctx context.Context, name string) (Merchant, string, error) {
	m := Merchant{Ref: domain.NewRef(domain.PrefixMerchant), Name: name}
	key := domain.NewSecretRef("sk_sandbox")
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO merchants (id, name, legal_name) VALUES ($1, $2, $2)`, m.Ref, name); err != nil {
			return err
		}
		_, err := insertAPIKey(ctx, tx, m.Ref, key, KeySpec{Mode: domain.ModeSandbox})
		return err
	})
	if err != nil {
		return Merchant{}, "", fmt.Errorf("create merchant: %w", err)
	}
	m, err = s.GetMerchant(ctx, m.Ref)
	return m, key, err
}

const merchantColumns = `id, name, legal_name, support_contact, terms_url, privacy_url, icon_url,
		logo_url, default_currency, dunning_retry_days, grace_period_days, dispute_access, created_at`

func merchantFields(m *Merchant) []any {
	return []any{&m.Ref, &m.Name, &m.LegalName, &m.SupportContact, &m.TermsURL, &m.PrivacyURL, &m.IconURL,
		&m.LogoURL, &m.DefaultCurrency, &m.DunningRetryDays, &m.GracePeriodDays, &m.DisputeAccess, &m.CreatedAt}
}

// MerchantPatch is what an operator sets of a merchant: at onboarding (Name required) or later
// (nil fields keep their value). Field names in errors are the admin API's.
type MerchantPatch struct {
	Name         *string `json:"name"`
	LegalName    *string `json:"legalName"`
	SupportEmail *string `json:"supportEmail"`
	LogoURL      *string `json:"logoUrl"`
	Currency     *string `json:"currency"`
}

// Validate checks and normalises the fields present (trims them, upper-cases the currency).
func (p *MerchantPatch) Validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", p.Name}, {"legalName", p.LegalName}, {"supportEmail", p.SupportEmail}, {"logoUrl", p.LogoURL}, {"currency", p.Currency}} {
		if f.v == nil {
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > 200 && f.name != "logoUrl" {
			return domain.Errorf(domain.CodeInvalidField, f.name, "%s must be at most 200 characters", f.name)
		}
	}
	if p.Name != nil && *p.Name == "" {
		return domain.Errorf(domain.CodeMissingField, "name", "name is required")
	}
	if p.SupportEmail != nil && *p.SupportEmail != "" && !domain.ValidEmail(*p.SupportEmail) {
		return domain.Errorf(domain.CodeInvalidField, "supportEmail", "supportEmail %q is not a valid address", *p.SupportEmail)
	}
	if p.LogoURL != nil && *p.LogoURL != "" && !domain.ValidHTTPURL(*p.LogoURL) && !validAssetPath(*p.LogoURL) {
		return domain.Errorf(domain.CodeInvalidField, "logoUrl", "logoUrl must be an absolute http(s) URL or a path on this server such as /assets/logo.png")
	}
	if p.Currency != nil {
		*p.Currency = strings.ToUpper(*p.Currency)
		if !currencyRe.MatchString(*p.Currency) {
			return domain.Errorf(domain.CodeInvalidField, "currency", "currency must be an ISO 4217 code such as USD, not %q", *p.Currency)
		}
	}
	return nil
}

// OnboardMerchant creates a merchant with its first keys, one sandbox and one live (their
// secrets are shown once, in the answer). Name is required; the legal name defaults to it and
// the currency to USD.
func (s *Store) OnboardMerchant(ctx context.Context, p MerchantPatch) (Merchant, []NewKey, error) {
	if p.Name == nil {
		p.Name = new(string)
	}
	if err := p.Validate(); err != nil {
		return Merchant{}, nil, err
	}
	m := Merchant{Ref: domain.NewRef(domain.PrefixMerchant), Name: *p.Name, LegalName: deref(p.LegalName), SupportContact: deref(p.SupportEmail),
		LogoURL: deref(p.LogoURL), DefaultCurrency: deref(p.Currency)}
	if m.LegalName == "" {
		m.LegalName = m.Name
	}
	if m.DefaultCurrency == "" {
		m.DefaultCurrency = "USD"
	}
	var keys []NewKey
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO merchants (id, name, legal_name, support_contact, logo_url, default_currency)
			VALUES ($1, $2, $3, $4, $5, $6)`, m.Ref, m.Name, m.LegalName, m.SupportContact, m.LogoURL, m.DefaultCurrency); err != nil {
			return err
		}
		for _, mode := range []string{domain.ModeSandbox, domain.ModeLive} {
			secret := newKeySecret(mode)
			k, err := insertAPIKey(ctx, tx, m.Ref, secret, KeySpec{Mode: mode, Name: "first " + mode + " key"})
			if err != nil {
				return err
			}
			keys = append(keys, NewKey{KeyInfo: k, Secret: secret})
		}
		return nil
	})
	if err != nil {
		return Merchant{}, nil, fmt.Errorf("create merchant: %w", err)
	}
	m, err = s.GetMerchant(ctx, m.Ref)
	return m, keys, err
}

// validAssetPath accepts a path served by this deployment (resolved against its public URL).
func validAssetPath(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && len(s) <= 2000 && !strings.ContainsAny(s, " \t\r\n<>\"\\")
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ListMerchants lists every merchant, oldest first (an operator's view: a few, not millions).
func (s *Store) ListMerchants(ctx context.Context) ([]Merchant, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+merchantColumns+` FROM merchants ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Merchant, error) {
		var m Merchant
		return m, r.Scan(merchantFields(&m)...)
	})
}

// UpdateMerchant applies the fields present; an invalid one changes nothing.
func (s *Store) UpdateMerchant(ctx context.Context, ref string, p MerchantPatch) (Merchant, error) {
	if p.Name == nil && p.LegalName == nil && p.SupportEmail == nil && p.LogoURL == nil && p.Currency == nil {
		return Merchant{}, domain.Errorf(domain.CodeMissingField, "body", "send at least one of name, legalName, supportEmail, logoUrl, currency")
	}
	if err := p.Validate(); err != nil {
		return Merchant{}, err
	}
	if p.LegalName != nil && *p.LegalName == "" {
		return Merchant{}, domain.Errorf(domain.CodeInvalidField, "legalName", "legalName must not be empty")
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE merchants SET name = coalesce($2, name), legal_name = coalesce($3, legal_name),
		support_contact = coalesce($4, support_contact), logo_url = coalesce($5, logo_url), default_currency = coalesce($6, default_currency)
		WHERE id = $1`, ref, p.Name, p.LegalName, p.SupportEmail, p.LogoURL, p.Currency)
	if err != nil {
		return Merchant{}, err
	}
	if tag.RowsAffected() == 0 {
		return Merchant{}, domain.NotFound("merchant", ref)
	}
	return s.GetMerchant(ctx, ref)
}

// GetMerchant loads a merchant by reference.
func (s *Store) GetMerchant(ctx context.Context, ref string) (Merchant, error) {
	var m Merchant
	err := s.Pool.QueryRow(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE id = $1`, ref).Scan(merchantFields(&m)...)
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
