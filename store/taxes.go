package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const taxRateCols = `id, merchant_id, mode, name, basis_points, country, inclusive, created_at, archived_at`

func scanTaxRate(row pgx.Row) (domain.TaxRate, error) {
	var r domain.TaxRate
	err := row.Scan(&r.Ref, &r.MerchantRef, &r.Mode, &r.Name, &r.BasisPoints, &r.Country, &r.Inclusive, &r.CreatedAt,
		&r.ArchivedAt)
	r.Percentage, r.Active = domain.FormatPercentage(r.BasisPoints), r.ArchivedAt == nil
	return r, err
}

// CreateTaxRate records a merchant's rate of one country in one mode. A country has at most one
// active rate per merchant and mode: a second is refused (CONFLICT, field country) until the
// first is archived.
func (s *Store) CreateTaxRate(ctx context.Context, r domain.TaxRate) (domain.TaxRate, error) {
	r.Ref = domain.NewRef(domain.PrefixTaxRate)
	out, err := scanTaxRate(s.Pool.QueryRow(ctx, `INSERT INTO tax_rates (id, merchant_id, mode, name, basis_points,
		country, inclusive) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING `+taxRateCols,
		r.Ref, r.MerchantRef, r.Mode, r.Name, r.BasisPoints, r.Country, r.Inclusive))
	if isUniqueViolation(err, "tax_rates_country") {
		var active string
		_ = s.Pool.QueryRow(ctx, `SELECT id FROM tax_rates WHERE merchant_id = $1 AND mode = $2 AND country = $3
			AND archived_at IS NULL`, r.MerchantRef, r.Mode, r.Country).Scan(&active)
		return out, domain.Errorf(domain.CodeConflict, "country", "%s already has an active tax rate (%s); archive it first",
			r.Country, active)
	}
	if err != nil {
		return out, fmt.Errorf("create tax rate: %w", err)
	}
	return out, nil
}

// GetTaxRate finds a rate of merchant in mode; another merchant's or mode's is not found.
func (s *Store) GetTaxRate(ctx context.Context, merchant, mode, ref string) (domain.TaxRate, error) {
	r, err := scanTaxRate(s.Pool.QueryRow(ctx, `SELECT `+taxRateCols+` FROM tax_rates
		WHERE merchant_id = $1 AND mode = $2 AND id = $3`, merchant, mode, ref))
	return r, notFoundIfNoRows(err, "tax rate", ref)
}

// ListTaxRates returns one page of the merchant's rates in mode, newest first; active narrows to
// active (true) or archived (false) rates when set.
func (s *Store) ListTaxRates(ctx context.Context, merchant, mode string, active *bool, p Page) ([]domain.TaxRate, int, error) {
	q := newWhere("merchant_id = $1", merchant)
	q.add("mode = $%d", mode)
	if active != nil {
		q.add("(archived_at IS NULL) = $%d", *active)
	}
	return listPage(ctx, s.Pool, "tax_rates", taxRateCols, q, "created_at DESC, id DESC", p, scanTaxRate)
}

// ArchiveTaxRate stops a rate from applying to new charges; invoices issued with it keep it.
// Archiving an archived rate answers it unchanged.
func (s *Store) ArchiveTaxRate(ctx context.Context, merchant, mode, ref string) (domain.TaxRate, error) {
	r, err := scanTaxRate(s.Pool.QueryRow(ctx, `UPDATE tax_rates SET archived_at = coalesce(archived_at, now())
		WHERE merchant_id = $1 AND mode = $2 AND id = $3 RETURNING `+taxRateCols, merchant, mode, ref))
	return r, notFoundIfNoRows(err, "tax rate", ref)
}

// ChargeTaxInput names a charge whose tax is asked.
type ChargeTaxInput struct {
	MerchantRef, Mode, CustomerRef string
	IdempotencyKey                 string
	Amount                         int64 // what the workflow asks: a price, before exclusive tax
}

// ChargeTax is the tax of a charge, computed the first time its key is asked and kept
// (charge_taxes): every later ask under the key — a retried activity, a new round — answers the
// same, so a retried charge charges the same total. The rate is the merchant's active rate of the
// customer's registered country in the charge's mode (none: no tax); an EU business with a VAT
// ID of another member state than the merchant's gets the reverse charge (domain.TaxCharge).
func (s *Store) ChargeTax(ctx context.Context, in ChargeTaxInput) (domain.ChargeTax, error) {
	if t, found, err := keptChargeTax(ctx, s.Pool, in.MerchantRef, in.IdempotencyKey); err != nil || found {
		return t, err
	}
	_, seller, err := sellerOf(ctx, s.Pool, in.MerchantRef)
	if err != nil {
		return domain.ChargeTax{}, err
	}
	buyer, err := buyerOf(ctx, s.Pool, in.CustomerRef)
	if err != nil {
		return domain.ChargeTax{}, err
	}
	var rate *domain.TaxRate
	if buyer.Country != "" {
		r, err := scanTaxRate(s.Pool.QueryRow(ctx, `SELECT `+taxRateCols+` FROM tax_rates WHERE merchant_id = $1
			AND mode = $2 AND country = $3 AND archived_at IS NULL`, in.MerchantRef, in.Mode, buyer.Country))
		switch {
		case err == nil:
			rate = &r
		case !errors.Is(err, pgx.ErrNoRows):
			return domain.ChargeTax{}, fmt.Errorf("tax rate of %s: %w", buyer.Country, err)
		}
	}
	t := domain.TaxCharge(in.Amount, domain.TaxSubject{SellerCountry: seller.Country, BuyerCountry: buyer.Country,
		BuyerTaxIDs: buyer.TaxIDs}, rate)
	kept, found, err := scanChargeTax(s.Pool.QueryRow(ctx, `INSERT INTO charge_taxes (merchant_id, idempotency_key, net,
		tax, total, tax_rate_id, name, basis_points, inclusive, country, note)
		VALUES ($1,$2,$3,$4,$5,nullif($6,''),$7,$8,$9,$10,$11)
		ON CONFLICT (merchant_id, idempotency_key) DO NOTHING RETURNING `+chargeTaxCols, in.MerchantRef, in.IdempotencyKey,
		t.Net, t.Tax, t.Total, t.RateRef, t.Name, t.BasisPoints, t.Inclusive, t.Country, t.Note))
	if err != nil || found {
		if err != nil {
			err = fmt.Errorf("keep tax of %s: %w", in.IdempotencyKey, err)
		}
		return kept, err
	}
	// a concurrent first ask kept its own first: the kept one is the answer
	t, _, err = keptChargeTax(ctx, s.Pool, in.MerchantRef, in.IdempotencyKey)
	return t, err
}

const chargeTaxCols = `net, tax, total, coalesce(tax_rate_id, ''), name, basis_points, inclusive, country, note`

// scanChargeTax reads a charge_taxes row; found is false when there is none.
func scanChargeTax(row pgx.Row) (t domain.ChargeTax, found bool, err error) {
	err = row.Scan(&t.Net, &t.Tax, &t.Total, &t.RateRef, &t.Name, &t.BasisPoints, &t.Inclusive, &t.Country, &t.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	return t, err == nil, err
}

func keptChargeTax(ctx context.Context, db DBTX, merchant, key string) (domain.ChargeTax, bool, error) {
	t, found, err := scanChargeTax(db.QueryRow(ctx, `SELECT `+chargeTaxCols+` FROM charge_taxes
		WHERE merchant_id = $1 AND idempotency_key = $2`, merchant, key))
	if err != nil {
		return t, false, fmt.Errorf("tax of %s: %w", key, err)
	}
	return t, found, nil
}

// recordChargeTax copies the tax kept for a payment's key, if any, beside the payment: its
// invoice is split by it. Only when the amount recorded is the total the tax was computed for
// (money adopted from the processor under another amount has no tax the ledger can vouch for).
func recordChargeTax(ctx context.Context, db DBTX, t domain.Transaction) error {
	if t.Kind != domain.TxnPayment {
		return nil
	}
	_, err := db.Exec(ctx, `INSERT INTO transaction_taxes (transaction_id, tax, basis_points, inclusive, note, tax_rate_id,
		name, country) SELECT $3, tax, basis_points, inclusive, note, tax_rate_id, name, country FROM charge_taxes
		WHERE merchant_id = $1 AND idempotency_key = $2 AND total = $4 AND (tax > 0 OR note <> '' OR name <> '')
		ON CONFLICT (transaction_id) DO NOTHING`, t.MerchantRef, t.IdempotencyKey, t.Ref, t.Amount)
	if err != nil {
		return fmt.Errorf("tax of %s: %w", t.Ref, err)
	}
	return nil
}

// TaxApplied is the tax inside a payment's amount.
type TaxApplied struct {
	Amount    int64  // minor units, part of the amount charged
	RateBP    int    // basis points
	Name      string // the rate's name, e.g. VAT
	Inclusive bool   // the price already held the tax
	Note      string // the reverse-charge note, when that is why there is no tax
}

// chargeTax reads the tax recorded with a payment; none when the merchant had no rate for it.
func chargeTax(ctx context.Context, db DBTX, t domain.Transaction) (TaxApplied, error) {
	var a TaxApplied
	err := db.QueryRow(ctx, `SELECT tax, basis_points, name, inclusive, note FROM transaction_taxes WHERE transaction_id = $1`,
		t.Ref).Scan(&a.Amount, &a.RateBP, &a.Name, &a.Inclusive, &a.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return TaxApplied{}, nil
	}
	if err != nil {
		return a, fmt.Errorf("tax of %s: %w", t.Ref, err)
	}
	return a, nil
}
