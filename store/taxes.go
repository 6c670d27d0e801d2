package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// TaxApplied is the tax inside a payment's amount.
type TaxApplied struct {
	Amount    int64  // minor units, part of the amount charged
	RateBP    int    // basis points
	Inclusive bool   // the price already held the tax
	Note      string // the reverse-charge note, when that is why there is no tax
}

// chargeTax reads the tax recorded with a payment; none when the merchant had no rate for it.
func chargeTax(ctx context.Context, db DBTX, t domain.Transaction) (TaxApplied, error) {
	var a TaxApplied
	err := db.QueryRow(ctx, `SELECT tax, basis_points, inclusive, note FROM transaction_taxes WHERE transaction_id = $1`,
		t.Ref).Scan(&a.Amount, &a.RateBP, &a.Inclusive, &a.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return TaxApplied{}, nil
	}
	if err != nil {
		return a, fmt.Errorf("tax of %s: %w", t.Ref, err)
	}
	return a, nil
}
