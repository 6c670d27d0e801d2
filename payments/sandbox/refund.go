package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// Refund returns part or all of a succeeded charge, never more than its amount minus earlier
// refunds, and only within domain.RefundWindow of the charge on the customer's clock (in.At
// against the charge's At), refusing later ones as Stripe does (charge_expired_for_refund). A
// refusal is not recorded: what is still refundable only shrinks and the charge only ages, so
// a retry with the same key is refused again anyway; a refund made is answered again under its
// key at any time.
func (p *Processor) Refund(ctx context.Context, in payments.RefundInput) (payments.RefundResult, error) {
	in.Currency = strings.ToUpper(in.Currency)
	if err := validateKey(in.IdempotencyKey); err != nil {
		return payments.RefundResult{}, err
	}
	if in.Amount <= 0 {
		return payments.RefundResult{}, invalid("refund amount must be positive, got %d", in.Amount)
	}
	var res payments.RefundResult
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		res, err = refundInTx(ctx, tx, in)
		return err
	})
	return res, err
}

func refundInTx(ctx context.Context, tx pgx.Tx, in payments.RefundInput) (payments.RefundResult, error) {
	// Locking the charge serialises every refund of it, so the sum below cannot be raced past
	// the charge's amount, and a concurrent call with the same key is visible once we hold it.
	var chargeAmount int64
	var currency, status, pm, customer string
	var chargedAt, now time.Time
	err := tx.QueryRow(ctx, `SELECT c.amount, c.currency, c.status, c.charged_at, coalesce($2, now()), c.payment_method,
			c.customer_id
		FROM sandbox_charges c WHERE c.id = $1 FOR UPDATE OF c`, in.ChargeRef, clockTime(in.At)).Scan(&chargeAmount, &currency,
		&status, &chargedAt, &now, &pm, &customer)
	if errors.Is(err, pgx.ErrNoRows) {
		return payments.RefundResult{}, invalid("no such charge: %q", in.ChargeRef)
	}
	if err != nil {
		return payments.RefundResult{}, fmt.Errorf("sandbox: read charge: %w", err)
	}

	if prev, err := refundByKey(ctx, tx, in.IdempotencyKey); err == nil {
		return prev.replay(in)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return payments.RefundResult{}, err
	}

	if now.Sub(chargedAt) > domain.RefundWindow { // as Stripe: card payments refund for 180 days
		return payments.RefundResult{}, &payments.DeclineError{Code: payments.CodeChargeExpiredForRefund,
			Message: fmt.Sprintf("Charge %s was made on %s, more than %d days ago: it can no longer be refunded.",
				in.ChargeRef, chargedAt.UTC().Format("2006-01-02"), int(domain.RefundWindow.Hours()/24))}
	}
	if status != "succeeded" {
		return payments.RefundResult{}, invalid("charge %s did not succeed; there is nothing to refund", in.ChargeRef)
	}
	behaviour, err := cardBehaviour(ctx, tx, pm, customer)
	if err != nil {
		return payments.RefundResult{}, err
	}
	if d := behaviour.refundDecline(); d != nil {
		return payments.RefundResult{}, d
	}
	if in.Currency != "" && in.Currency != currency {
		return payments.RefundResult{}, invalid("charge %s is in %s, not %s", in.ChargeRef, currency, in.Currency)
	}
	var refunded int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM sandbox_refunds WHERE charge_id = $1`,
		in.ChargeRef).Scan(&refunded); err != nil {
		return payments.RefundResult{}, fmt.Errorf("sandbox: sum refunds: %w", err)
	}
	if remaining := chargeAmount - refunded; in.Amount > remaining {
		return payments.RefundResult{}, invalid("refund of %d %s exceeds the %d %s still refundable on charge %s",
			in.Amount, currency, remaining, currency, in.ChargeRef)
	}

	r := refundRow{id: domain.NewRef(strings.TrimSuffix(refundPrefix, "_")), key: in.IdempotencyKey,
		chargeID: in.ChargeRef, amount: in.Amount, status: "succeeded"}
	// The same key on a refund of another charge holds another lock; the unique key catches it.
	err = tx.QueryRow(ctx, `
		INSERT INTO sandbox_refunds (id, idempotency_key, charge_id, amount, currency, reason, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id`,
		r.id, r.key, r.chargeID, r.amount, currency, in.Reason, r.status).Scan(&r.id)
	if errors.Is(err, pgx.ErrNoRows) {
		prev, err := refundByKey(ctx, tx, in.IdempotencyKey)
		if err != nil {
			return payments.RefundResult{}, err
		}
		return prev.replay(in)
	}
	if err != nil {
		return payments.RefundResult{}, fmt.Errorf("sandbox: record refund: %w", err)
	}
	return r.result(), nil
}

// refundRow is the part of a sandbox_refunds row that decides a replay.
type refundRow struct {
	id, key, chargeID string
	amount            int64
	status            string
}

func refundByKey(ctx context.Context, tx pgx.Tx, key string) (refundRow, error) {
	r := refundRow{key: key}
	err := tx.QueryRow(ctx, `SELECT id, charge_id, amount, status FROM sandbox_refunds WHERE idempotency_key = $1`,
		key).Scan(&r.id, &r.chargeID, &r.amount, &r.status)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("sandbox: read refund: %w", err)
	}
	return r, err
}

func (r refundRow) replay(in payments.RefundInput) (payments.RefundResult, error) {
	if r.chargeID != in.ChargeRef || r.amount != in.Amount {
		return payments.RefundResult{}, fmt.Errorf("sandbox: refund %q was %d of %s, now %d of %s: %w",
			r.key, r.amount, r.chargeID, in.Amount, in.ChargeRef, payments.ErrIdempotencyMismatch)
	}
	return r.result(), nil
}

func (r refundRow) result() payments.RefundResult {
	return payments.RefundResult{ProcessorRef: r.id, Status: r.status}
}
