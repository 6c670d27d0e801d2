package sandbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/payments"
)

var _ payments.PaymentLookup = (*Processor)(nil)

// LookupPayment reads a charge (ch_sb_…), its refunds and its dispute from the ledger.
func (p *Processor) LookupPayment(ctx context.Context, ref string) (payments.PaymentFacts, error) {
	c, err := p.chargeOf(ctx, ref)
	if err != nil {
		return payments.PaymentFacts{}, err
	}
	facts := payments.PaymentFacts{PaymentRef: c.id, Status: c.status, Amount: c.amount, Currency: c.currency, Key: c.key}
	if c.status != payments.PaymentSucceeded && c.status != payments.PaymentProcessing {
		facts.Status, facts.FailureCode = payments.PaymentFailed, c.failureCode
	}
	refunds, err := p.pool.Query(ctx, `SELECT id, amount, status, idempotency_key FROM sandbox_refunds
		WHERE charge_id = $1 ORDER BY created_at, id`, c.id)
	if err != nil {
		return facts, fmt.Errorf("sandbox: read refunds: %w", err)
	}
	facts.Refunds, err = pgx.CollectRows(refunds, func(row pgx.CollectableRow) (payments.RefundFacts, error) {
		var r payments.RefundFacts
		err := row.Scan(&r.ID, &r.Amount, &r.Status, &r.Key)
		return r, err
	})
	if err != nil {
		return facts, fmt.Errorf("sandbox: read refunds: %w", err)
	}
	d, err := p.dispute(ctx, c.id)
	switch {
	case err == nil:
		facts.Disputes = []payments.DisputeFacts{{ID: d.id, Amount: d.amount, Status: d.status}}
	case !errors.Is(err, pgx.ErrNoRows):
		return facts, err
	}
	return facts, nil
}
