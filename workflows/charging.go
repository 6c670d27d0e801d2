package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// How a charge is settled (DESIGN.md "Exactly-once money"). A charge runs in rounds. One round
// is the Charge activity with its retries, bounded by ChargeRoundTimeout, far inside the
// processor's idempotency window (Stripe keeps a key about 24 hours, then charges again under
// it). Every attempt after the very first looks the charge up at the processor by its key and
// adopts what it finds, so no attempt relies on the processor still remembering the key. A
// decline ends the charge (dunning); a round that ends unsettled — a fault of ours or the
// processor's, or an outcome nobody knows — changes nothing: the purchase waits (chargeBackoff)
// and starts the next round. While a charge is in flight the purchase's mutex is free, so
// cancel, reactivate, refund and the clock answer at once; the state query shows the charge.

// ChargeRoundTimeout bounds the attempts of one round of a charge.
const ChargeRoundTimeout = time.Hour

var chargeOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	HeartbeatTimeout:       5 * time.Second,
	ScheduleToCloseTimeout: ChargeRoundTimeout,
	RetryPolicy:            paymentRetry,
}

// chargeBackoff is the wait after the n-th unsettled round: 15 minutes, doubling, at most 6 hours.
func chargeBackoff(n int) time.Duration {
	d := 15 * time.Minute
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// Charging is a charge in flight, as the state query shows it.
type Charging struct {
	Key           string
	Amount        int64
	PaymentMethod string `json:",omitempty"`
	Since         time.Time
	Rounds        int    `json:",omitempty"` // rounds that ended unsettled
	LastError     string `json:",omitempty"` // why the last round did not settle
}

// finalTypes are the activity error types that end a charge: the customer's decline (a bank
// asking for authentication included: the customer completes that payment, processor_events.go),
// or a charge the API never asked for (which no retry will make one it did).
var finalTypes = map[string]bool{
	ErrTypeCardDeclined: true, ErrTypeInsufficientFunds: true, ErrTypePaymentDeclined: true,
	ErrTypePaymentMethodMissing: true, ErrTypeNotRecorded: true, ErrTypeAuthenticationRequired: true,
}

// settle charges in rounds until the charge succeeds or is declined. It is called holding the
// mutex and returns holding it; in between the mutex is free.
func (p *purchase) settle(ctx workflow.Context, in ChargeInput) (ChargeResult, *ChargeFailure, error) {
	var pm PaymentMethodResult
	err := workflow.ExecuteLocalActivity(local(ctx), actPaymentMethod,
		PaymentMethodInput{MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef}).Get(ctx, &pm)
	if err != nil {
		return ChargeResult{}, nil, err
	}
	in.PaymentMethod = pm.PaymentMethod
	if in.At.IsZero() { // the payment's time on the purchase's clock, where its refund window starts
		in.At = p.stamp(ctx)
	}
	c := &Charging{Key: in.IdempotencyKey, Amount: in.Amount, PaymentMethod: pm.PaymentMethod, Since: p.stamp(ctx)}
	p.state.Charging = c
	defer func() { p.state.Charging = nil }()
	p.mu.Unlock()
	defer p.relock(ctx)
	for {
		res, failure, err := chargeRound(ctx, in)
		if err == nil || ctx.Err() != nil {
			return res, failure, err
		}
		c.Rounds++
		c.LastError = err.Error()
		p.log.Warn("charge not settled; the purchase waits and tries again", "key", in.IdempotencyKey,
			"round", c.Rounds, "error", err)
		if err := workflow.Sleep(ctx, chargeBackoff(c.Rounds)); err != nil {
			return ChargeResult{}, nil, err
		}
		in.LookUpFirst = true
	}
}

// relock takes the mutex back after a charge. It cannot be refused: the step that released it
// still holds it in the caller's eyes.
func (p *purchase) relock(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	_ = p.mu.Lock(dctx)
}

// chargeRound runs one round: the result, a decline, or an error when it ended unsettled.
func chargeRound(ctx workflow.Context, in ChargeInput) (ChargeResult, *ChargeFailure, error) {
	return runCharge(ctx, chargeOptions, in, func(typ string) bool { return finalTypes[typ] })
}

// runCharge runs the Charge activity with opts: the result; the failure when it ended with a
// non-retryable error of a type final accepts (a decline, with the activity's ChargeFailure
// details); or err for anything else (an unsettled round, the workflow being cancelled).
func runCharge(ctx workflow.Context, opts workflow.ActivityOptions, in ChargeInput, final func(errType string) bool) (ChargeResult, *ChargeFailure, error) {
	var out ChargeResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), actCharge, in).Get(ctx, &out)
	if err == nil {
		return out, nil, nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() && final(app.Type()) {
		f := ChargeFailure{Code: app.Type(), Message: app.Message()}
		if app.HasDetails() {
			_ = app.Details(&f)
		}
		return out, &f, nil
	}
	return out, nil, err
}

// lockedIdle runs fn holding the mutex once no charge is in flight: for steps that charge
// themselves, so two charges of one purchase never overlap.
func (p *purchase) lockedIdle(ctx workflow.Context, fn func(workflow.Context) error) error {
	for {
		if err := workflow.Await(ctx, func() bool { return p.state.Charging == nil }); err != nil {
			return err
		}
		if err := p.mu.Lock(ctx); err != nil {
			return err
		}
		if p.state.Charging == nil {
			break
		}
		p.mu.Unlock() // a charge started between the wait and the lock
	}
	defer p.mu.Unlock()
	return fn(ctx)
}

// chargingRefusal refuses an action that cannot run beside a charge in flight.
func (p *purchase) chargingRefusal(action string) error {
	if c := p.state.Charging; c != nil {
		return refuse(domain.CodeConflict, "", "cannot %s: a payment of %d is being collected (since %s); try again when it is done",
			action, c.Amount, c.Since.Format(time.RFC3339))
	}
	return nil
}
