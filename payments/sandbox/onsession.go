package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

var _ payments.SessionConfirmer = (*Processor)(nil)

// setupPrefix starts the sandbox's SetupIntent ids.
const setupPrefix = "seti_sb"

// ConfirmOnSession sets a card up at checkout with the customer present. A 3-D Secure test card
// (4000 0027 6000 3184, 4000 0025 0000 3155) leaves the setup waiting for the customer's answer
// on the sandbox's authentication page (AuthenticateOnSession); any other card is set up at
// once. The same key answers the same setup.
func (p *Processor) ConfirmOnSession(ctx context.Context, in payments.OnSessionInput) (payments.OnSessionResult, error) {
	if err := validateKey(in.IdempotencyKey); err != nil {
		return payments.OnSessionResult{}, err
	}
	behaviour, err := p.chargeBehaviour(ctx, payments.ChargeInput{ProcessorCustomerID: in.ProcessorCustomerID,
		PaymentMethod: in.PaymentMethod})
	if err != nil {
		return payments.OnSessionResult{}, err
	}
	status := payments.PaymentSucceeded
	if behaviour.setupAsks() {
		status = payments.AuthenticationPending
	}
	var id string
	err = p.pool.QueryRow(ctx, `INSERT INTO sandbox_setups (id, idempotency_key, customer_id, payment_method, status)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key RETURNING id`,
		domain.NewRef(setupPrefix), in.IdempotencyKey, in.ProcessorCustomerID, in.PaymentMethod, status).Scan(&id)
	if err != nil {
		return payments.OnSessionResult{}, fmt.Errorf("sandbox: set up card: %w", err)
	}
	return p.OnSessionOutcome(ctx, id)
}

// OnSessionOutcome reads a setup (seti_sb_…).
func (p *Processor) OnSessionOutcome(ctx context.Context, ref string) (payments.OnSessionResult, error) {
	out := payments.OnSessionResult{Ref: ref}
	err := p.pool.QueryRow(ctx, `SELECT status FROM sandbox_setups WHERE id = $1`, ref).Scan(&out.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, &payments.DeclineError{Code: "resource_missing", Message: "no such setup: " + ref}
	} else if err != nil {
		return out, fmt.Errorf("sandbox: read setup: %w", err)
	}
	if out.Status == payments.PaymentFailed {
		out.FailureCode, out.Message = codeAuthenticationFailed, "The authentication of your card failed."
	}
	return out, nil
}

// AuthenticateOnSession is the customer's answer on the sandbox's authentication page at
// checkout, for a setup that asked: approved, the card is set up; refused, the setup fails with
// payment_intent_authentication_failure. A setup already answered stays as it is. As at Stripe,
// a card whose bank asks for every payment (3184) still asks on each off-session charge after
// it, the first included: the customer authenticates that payment too (Authenticate).
func (p *Processor) AuthenticateOnSession(ctx context.Context, ref string, approve bool) (payments.OnSessionResult, error) {
	if !strings.HasPrefix(ref, setupPrefix+"_") {
		return payments.OnSessionResult{}, invalid("not a setup: %q", ref)
	}
	status := payments.PaymentFailed
	if approve {
		status = payments.PaymentSucceeded
	}
	_, err := p.pool.Exec(ctx, `UPDATE sandbox_setups SET status = $2 WHERE id = $1 AND status = $3`,
		ref, status, payments.AuthenticationPending)
	if err != nil {
		return payments.OnSessionResult{}, fmt.Errorf("sandbox: authenticate setup: %w", err)
	}
	return p.OnSessionOutcome(ctx, ref)
}
