package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/payments"
)

// Charge takes an off-session payment from an attached pm_sb_ card or one of Stripe's test
// PaymentMethod ids. A decline is recorded in the ledger under the idempotency key, so a retry
// answers the same decline with the same charge id; invalid requests are not recorded (as at
// Stripe, where a request that fails validation saves no idempotent result).
//
// On a decline the ChargeResult still carries the failed charge's id, beside the *DeclineError.
func (p *Processor) Charge(ctx context.Context, in payments.ChargeInput) (payments.ChargeResult, error) {
	in.Currency = strings.ToUpper(in.Currency)
	if err := validateCharge(in); err != nil {
		return payments.ChargeResult{}, err
	}
	if err := p.forgetExpiredKey(ctx, in.IdempotencyKey); err != nil {
		return payments.ChargeResult{}, err
	}
	// A replay answers from the ledger before looking at the card, whose behaviour may have
	// changed since the first call.
	if prev, err := p.chargeByKey(ctx, in.IdempotencyKey); err == nil {
		return prev.replay(in)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return payments.ChargeResult{}, err
	}

	behaviour, err := p.chargeBehaviour(ctx, in)
	if err != nil {
		return payments.ChargeResult{}, err
	}
	c := chargeRow{
		id: domain.NewRef(strings.TrimSuffix(chargePrefix, "_")), key: in.IdempotencyKey,
		customerID: in.ProcessorCustomerID, paymentMethod: in.PaymentMethod,
		amount: in.Amount, currency: in.Currency, status: "succeeded",
	}
	if d := behaviour.chargeDecline(); d != nil {
		c.status, c.failureCode, c.failureMessage = "failed", d.Code, d.Message
	} else if behaviour == BehaviourProcessing {
		c.status = payments.PaymentProcessing
	}
	c.serverError = behaviour == BehaviourServerErrorAfterCharge
	metadata := in.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	// Two simultaneous calls with one key both get here; the unique key lets exactly one insert
	// and the other reads the winner back.
	err = p.pool.QueryRow(ctx, `
		INSERT INTO sandbox_charges (id, idempotency_key, customer_id, payment_method, amount, currency,
			description, metadata, status, failure_code, failure_message, server_error, charged_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13, now()))
		ON CONFLICT (idempotency_key) WHERE NOT key_forgotten DO NOTHING
		RETURNING id`,
		c.id, c.key, c.customerID, c.paymentMethod, c.amount, c.currency,
		in.Description, metadata, c.status, c.failureCode, c.failureMessage, c.serverError, clockTime(in.At)).Scan(&c.id)
	if errors.Is(err, pgx.ErrNoRows) {
		prev, err := p.chargeByKey(ctx, in.IdempotencyKey)
		if err != nil {
			return payments.ChargeResult{}, err
		}
		return prev.replay(in)
	}
	if err != nil {
		return payments.ChargeResult{}, fmt.Errorf("sandbox: record charge: %w", err)
	}
	if behaviour == BehaviourDisputed {
		p.disputeLater(c.id)
	}
	return c.result()
}

// forgetExpiredKey lets go of a key older than the window: the charge stays in the ledger, and
// the key, used again, makes a new one.
func (p *Processor) forgetExpiredKey(ctx context.Context, key string) error {
	window := p.KeyWindow
	if window <= 0 {
		window = DefaultKeyWindow
	}
	_, err := p.pool.Exec(ctx, `UPDATE sandbox_charges SET key_forgotten = true
		WHERE idempotency_key = $1 AND NOT key_forgotten AND created_at <= now() - $2::interval`, key, window)
	if err != nil {
		return fmt.Errorf("sandbox: expire key: %w", err)
	}
	return nil
}

// FindCharge reads the ledger for a charge of the customer under key, remembered or not,
// preferring one that succeeded. It answers what happened, not what was answered: a charge made
// and answered 500 is found as succeeded.
func (p *Processor) FindCharge(ctx context.Context, in payments.FindChargeInput) (payments.ChargeResult, bool, error) {
	if err := validateKey(in.IdempotencyKey); err != nil {
		return payments.ChargeResult{}, false, err
	}
	c, err := p.scanCharge(ctx, `WHERE idempotency_key = $1 AND customer_id = $2
		ORDER BY status = 'succeeded' DESC, created_at DESC LIMIT 1`, in.IdempotencyKey, in.ProcessorCustomerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return payments.ChargeResult{}, false, nil
	}
	if err != nil {
		return payments.ChargeResult{}, false, err
	}
	c.serverError = false
	res, err := c.result()
	return res, true, err
}

// validateKey refuses a missing or over-long idempotency key, as Stripe does.
func validateKey(key string) error {
	switch {
	case key == "":
		return invalid("an idempotency key is required")
	case len(key) > 255:
		return invalid("the idempotency key is longer than 255 characters")
	}
	return nil
}

func validateCharge(in payments.ChargeInput) error {
	if err := validateKey(in.IdempotencyKey); err != nil {
		return err
	}
	switch {
	case in.Amount <= 0:
		return invalid("amount must be positive, got %d", in.Amount)
	case len(in.Currency) != 3:
		return invalid("currency must be an ISO 4217 code, got %q", in.Currency)
	case money.BelowMinimum(in.Currency, in.Amount): // as Stripe refuses it; Tollgate carries such amounts instead
		return invalid("Amount must be at least %d in minor units of %s, got %d (amount_too_small)",
			money.MinimumCharge(in.Currency), in.Currency, in.Amount)
	case in.ProcessorCustomerID == "":
		return invalid("an off-session charge needs a customer")
	case in.PaymentMethod == "":
		return invalid("the customer has no payment method")
	}
	return nil
}

// chargeBehaviour finds how the card of a charge answers (cardBehaviour).
func (p *Processor) chargeBehaviour(ctx context.Context, in payments.ChargeInput) (Behaviour, error) {
	return cardBehaviour(ctx, p.pool, in.PaymentMethod, in.ProcessorCustomerID)
}

// cardBehaviour finds how payment method pm answers: a Stripe test PaymentMethod id from the
// table, or an attached pm_sb_ card from the ledger, which must belong to customer. The one
// lookup for charges and refunds: a refund reads it in its own transaction (db).
func cardBehaviour(ctx context.Context, db querier, pm, customer string) (Behaviour, error) {
	if card, ok := cardsByPM[pm]; ok {
		return card.behaviour, nil
	}
	if !strings.HasPrefix(pm, pmPrefix) {
		return "", invalid("no such payment method: %q", pm)
	}
	row, err := paymentMethodIn(ctx, db, pm)
	if err != nil {
		return "", err
	}
	if row.customerID != customer {
		return "", invalid("payment method %s does not belong to customer %s", row.id, customer)
	}
	return row.behaviour, nil
}

// chargeRow is the part of a sandbox_charges row that decides a replay.
type chargeRow struct {
	id, key, customerID, paymentMethod  string
	amount                              int64
	currency                            string
	status, failureCode, failureMessage string
	serverError                         bool // made, then answered 500
}

// chargeByKey reads the charge a remembered key answers with.
func (p *Processor) chargeByKey(ctx context.Context, key string) (chargeRow, error) {
	return p.scanCharge(ctx, `WHERE idempotency_key = $1 AND NOT key_forgotten`, key)
}

func (p *Processor) scanCharge(ctx context.Context, where string, args ...any) (chargeRow, error) {
	var c chargeRow
	err := p.pool.QueryRow(ctx, `
		SELECT id, idempotency_key, customer_id, payment_method, amount, currency, status, failure_code,
			failure_message, server_error
		FROM sandbox_charges `+where, args...).
		Scan(&c.id, &c.key, &c.customerID, &c.paymentMethod, &c.amount, &c.currency, &c.status, &c.failureCode,
			&c.failureMessage, &c.serverError)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("sandbox: read charge: %w", err)
	}
	return c, err
}

// replay answers a repeated key with the first result, or refuses it when the money-moving
// parameters differ. Description and metadata are not compared: they do not move money.
func (c chargeRow) replay(in payments.ChargeInput) (payments.ChargeResult, error) {
	if c.customerID != in.ProcessorCustomerID || c.paymentMethod != in.PaymentMethod ||
		c.amount != in.Amount || c.currency != in.Currency {
		return payments.ChargeResult{}, fmt.Errorf("sandbox: charge %q was %d %s to %s/%s, now %d %s to %s/%s: %w",
			c.key, c.amount, c.currency, c.customerID, c.paymentMethod,
			in.Amount, in.Currency, in.ProcessorCustomerID, in.PaymentMethod, payments.ErrIdempotencyMismatch)
	}
	return c.result()
}

func (c chargeRow) result() (payments.ChargeResult, error) {
	if c.serverError { // as at Stripe, a 500 carries no charge id
		return payments.ChargeResult{}, &payments.ProcessorError{Status: 500, Message: "sandbox: internal server error after charging"}
	}
	res := payments.ChargeResult{ProcessorRef: c.id, Status: c.status}
	if c.status != payments.PaymentSucceeded && c.status != payments.PaymentProcessing {
		return res, &payments.DeclineError{Code: c.failureCode, Message: c.failureMessage}
	}
	return res, nil
}
