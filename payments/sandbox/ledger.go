package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LedgerCharge is one charge as the sandbox processor recorded it, declines included.
type LedgerCharge struct {
	ID             string
	IdempotencyKey string
	CustomerID     string
	PaymentMethod  string
	Amount         int64
	Currency       string
	Description    string
	Metadata       map[string]string
	Status         string // succeeded, failed, or processing (not settled yet)
	FailureCode    string // card_declined, insufficient_funds when failed
	Refunded       int64  // sum of its refunds
	CreatedAt      time.Time
}

// LedgerRefund is one refund as the sandbox processor recorded it.
type LedgerRefund struct {
	ID             string
	IdempotencyKey string
	ChargeID       string
	Amount         int64
	Currency       string
	Reason         string
	Status         string
	CreatedAt      time.Time
}

// Charges lists the ledger's charges whose idempotency key starts with keyPrefix ("" for all),
// oldest first. It is the processor's own truth, for tests that assert exactly one charge per
// period (e.g. keyPrefix "pur_x/").
func (p *Processor) Charges(ctx context.Context, keyPrefix string) ([]LedgerCharge, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT c.id, c.idempotency_key, c.customer_id, c.payment_method, c.amount, c.currency,
			c.description, c.metadata, c.status, c.failure_code,
			coalesce((SELECT sum(r.amount) FROM sandbox_refunds r WHERE r.charge_id = c.id), 0),
			c.created_at
		FROM sandbox_charges c
		WHERE starts_with(c.idempotency_key, $1)
		ORDER BY c.created_at, c.id`, keyPrefix)
	if err != nil {
		return nil, fmt.Errorf("sandbox: list charges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LedgerCharge, error) {
		var c LedgerCharge
		err := row.Scan(&c.ID, &c.IdempotencyKey, &c.CustomerID, &c.PaymentMethod, &c.Amount, &c.Currency,
			&c.Description, &c.Metadata, &c.Status, &c.FailureCode, &c.Refunded, &c.CreatedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: list charges: %w", err)
	}
	return out, nil
}

// Refunds lists the ledger's refunds whose idempotency key starts with keyPrefix ("" for all),
// oldest first.
func (p *Processor) Refunds(ctx context.Context, keyPrefix string) ([]LedgerRefund, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT id, idempotency_key, charge_id, amount, currency, reason, status, created_at
		FROM sandbox_refunds
		WHERE starts_with(idempotency_key, $1)
		ORDER BY created_at, id`, keyPrefix)
	if err != nil {
		return nil, fmt.Errorf("sandbox: list refunds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LedgerRefund, error) {
		var r LedgerRefund
		err := row.Scan(&r.ID, &r.IdempotencyKey, &r.ChargeID, &r.Amount, &r.Currency, &r.Reason, &r.Status, &r.CreatedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: list refunds: %w", err)
	}
	return out, nil
}

// SetCardBehaviour changes how an attached pm_sb_ card answers later charges, so a test can make
// a card "start failing" mid-life (or recover) without a new payment method. Charges already
// made keep their recorded result.
func (p *Processor) SetCardBehaviour(ctx context.Context, paymentMethod string, b Behaviour) error {
	if !b.valid() {
		return fmt.Errorf("sandbox: unknown card behaviour %q", b)
	}
	tag, err := p.pool.Exec(ctx, `UPDATE sandbox_payment_methods SET behaviour = $2 WHERE id = $1`, paymentMethod, b)
	if err != nil {
		return fmt.Errorf("sandbox: set card behaviour: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return invalid("no such payment method: %q", paymentMethod)
	}
	return nil
}
