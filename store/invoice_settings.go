package store

import (
	"context"
	"fmt"
	"time"
)

// InvoiceSettings are a merchant's invoice details: its number pattern and the seller's details
// the documents carry besides the merchant's legal name and support contact.
type InvoiceSettings struct {
	Prefix    string    `json:"prefix"`
	Pattern   string    `json:"pattern"`
	PaperSize string    `json:"paperSize"` // A4 or Letter
	Address   string    `json:"address"`   // lines separated by newlines
	Country   string    `json:"country"`   // ISO 3166-1 alpha-2
	TaxID     string    `json:"taxId"`
	HasLogo   bool      `json:"hasLogo"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// InvoiceSettingsPatch changes the fields that are not nil. Logo replaces the stored logo
// (LogoType png or jpg); RemoveLogo drops it.
type InvoiceSettingsPatch struct {
	Prefix, Pattern, PaperSize, Address, Country, TaxID *string
	Logo                                                []byte
	LogoType                                            string
	RemoveLogo                                          bool
}

// GetInvoiceSettings reads a merchant's invoice settings, the defaults when it set none.
func (s *Store) GetInvoiceSettings(ctx context.Context, merchant string) (InvoiceSettings, error) {
	out := InvoiceSettings{Prefix: "INV", Pattern: "<PREFIX>-<YYYY>-<000001>", PaperSize: "A4"}
	rows, err := s.Pool.Query(ctx, `SELECT prefix, pattern, paper_size, address, country, tax_id, logo IS NOT NULL, updated_at
		FROM invoice_settings WHERE merchant_id = $1`, merchant)
	if err != nil {
		return out, fmt.Errorf("invoice settings of %s: %w", merchant, err)
	}
	defer rows.Close()
	for rows.Next() {
		err = rows.Scan(&out.Prefix, &out.Pattern, &out.PaperSize, &out.Address, &out.Country, &out.TaxID, &out.HasLogo, &out.UpdatedAt)
	}
	if err == nil {
		err = rows.Err()
	}
	return out, err
}

// UpdateInvoiceSettings applies patch (validated by the caller) and answers the settings after.
// Documents issued before keep the details they were issued with.
func (s *Store) UpdateInvoiceSettings(ctx context.Context, merchant string, p InvoiceSettingsPatch) (InvoiceSettings, error) {
	var logo any
	if p.Logo != nil {
		logo = p.Logo
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO invoice_settings (merchant_id) VALUES ($1) ON CONFLICT (merchant_id) DO NOTHING;`, merchant)
	if err == nil {
		_, err = s.Pool.Exec(ctx, `UPDATE invoice_settings SET prefix = coalesce($2, prefix), pattern = coalesce($3, pattern),
			paper_size = coalesce($4, paper_size), address = coalesce($5, address), country = coalesce($6, country),
			tax_id = coalesce($7, tax_id),
			logo = CASE WHEN $10 THEN NULL WHEN $8::bytea IS NOT NULL THEN $8 ELSE logo END,
			logo_type = CASE WHEN $10 THEN '' WHEN $8::bytea IS NOT NULL THEN $9 ELSE logo_type END,
			updated_at = now() WHERE merchant_id = $1`,
			merchant, p.Prefix, p.Pattern, p.PaperSize, p.Address, p.Country, p.TaxID, logo, p.LogoType, p.RemoveLogo)
	}
	if err != nil {
		return InvoiceSettings{}, fmt.Errorf("invoice settings of %s: %w", merchant, err)
	}
	return s.GetInvoiceSettings(ctx, merchant)
}

// InvoiceLogo reads the merchant's stored logo: its bytes and type (png or jpg), nil when none.
func (s *Store) InvoiceLogo(ctx context.Context, merchant string) ([]byte, string, error) {
	var logo []byte
	var typ string
	rows, err := s.Pool.Query(ctx, `SELECT logo, logo_type FROM invoice_settings WHERE merchant_id = $1 AND logo IS NOT NULL`, merchant)
	if err != nil {
		return nil, "", fmt.Errorf("logo of %s: %w", merchant, err)
	}
	defer rows.Close()
	for rows.Next() {
		err = rows.Scan(&logo, &typ)
	}
	if err == nil {
		err = rows.Err()
	}
	return logo, typ, err
}
