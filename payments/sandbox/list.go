package sandbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/payments"
)

var _ payments.PaymentLister = (*Processor)(nil)

// ListPayments reads one page of the ledger's charges made at or after in.Since (real time, as
// Stripe's created), oldest first, each with its refunds. Every sandbox charge is Tollgate's:
// the sandbox takes no payment without an idempotency key. The cursor is the last charge's
// creation time and id.
func (p *Processor) ListPayments(ctx context.Context, in payments.ListPaymentsInput) (payments.PaymentPage, error) {
	after, afterID, err := parseCursor(in.Cursor)
	if err != nil {
		return payments.PaymentPage{}, err
	}
	limit := in.ListLimit()
	rows, err := p.pool.Query(ctx, `
		SELECT id, idempotency_key, amount, currency, status, failure_code, metadata, created_at
		FROM sandbox_charges
		WHERE created_at >= $1 AND (created_at, id) > ($2, $3)
		ORDER BY created_at, id LIMIT $4`, in.Since, after, afterID, limit)
	if err != nil {
		return payments.PaymentPage{}, fmt.Errorf("sandbox: list charges: %w", err)
	}
	listed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (payments.ListedPayment, error) {
		var l payments.ListedPayment
		var metadata map[string]string
		err := row.Scan(&l.PaymentRef, &l.Key, &l.Amount, &l.Currency, &l.Status, &l.FailureCode, &metadata, &l.Created)
		if l.Status != payments.PaymentSucceeded && l.Status != payments.PaymentProcessing {
			l.Status = payments.PaymentFailed
		}
		l.PurchaseRef = metadata["purchaseRef"]
		l.Period, _ = strconv.Atoi(metadata["period"])
		return l, err
	})
	if err != nil {
		return payments.PaymentPage{}, fmt.Errorf("sandbox: list charges: %w", err)
	}
	page := payments.PaymentPage{Payments: listed, Read: len(listed)}
	if len(listed) == limit {
		last := listed[len(listed)-1]
		page.Next = last.Created.UTC().Format(time.RFC3339Nano) + " " + last.PaymentRef
	}
	if err := p.listRefunds(ctx, page.Payments); err != nil {
		return payments.PaymentPage{}, err
	}
	return page, nil
}

// listRefunds fills in the refunds of the listed charges, in one read.
func (p *Processor) listRefunds(ctx context.Context, listed []payments.ListedPayment) error {
	byID := make(map[string]*payments.ListedPayment, len(listed))
	ids := make([]string, len(listed))
	for i := range listed {
		byID[listed[i].PaymentRef], ids[i] = &listed[i], listed[i].PaymentRef
	}
	rows, err := p.pool.Query(ctx, `SELECT charge_id, id, amount, status, idempotency_key FROM sandbox_refunds
		WHERE charge_id = ANY($1) ORDER BY created_at, id`, ids)
	if err != nil {
		return fmt.Errorf("sandbox: list refunds: %w", err)
	}
	var chargeID string
	var r payments.RefundFacts
	_, err = pgx.ForEachRow(rows, []any{&chargeID, &r.ID, &r.Amount, &r.Status, &r.Key}, func() error {
		byID[chargeID].Refunds = append(byID[chargeID].Refunds, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sandbox: list refunds: %w", err)
	}
	return nil
}

// parseCursor reads a ListPayments cursor: the zero time and "" for the first page.
func parseCursor(cursor string) (time.Time, string, error) {
	if cursor == "" {
		return time.Time{}, "", nil
	}
	at, id, ok := strings.Cut(cursor, " ")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return time.Time{}, "", invalid("not a sandbox list cursor: %q", cursor)
	}
	return t, id, nil
}
