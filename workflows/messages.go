package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// registerUpdates installs every update with its validator. A validator refuses a request
// before anything enters the history; its message is what the API shows. Each handler checks
// again under the mutex, because a lifecycle step may have run between validation and handling.
func (p *purchase) registerUpdates(ctx workflow.Context) error {
	for _, u := range []struct {
		name               string
		handler, validator any
	}{
		{UpdateCancelRenewal, p.updateCancel, p.validateCancel},
		{UpdateReactivateRenewal, p.updateReactivate, p.validateReactivate},
		{UpdateRefund, p.updateRefund, p.validateRefund},
		{UpdateChangePlan, p.updateChangePlan, p.validateChangePlan},
		{UpdateCancelScheduledChange, p.updateCancelScheduledChange, p.validateCancelScheduledChange},
		{UpdateRetryPayment, p.updateRetryPayment, p.validateRetryPayment},
		{UpdatePause, p.updatePause, p.validatePause},
		{UpdateResume, p.updateResume, p.validateResume},
		{UpdateAdvanceClock, p.updateAdvanceClock, p.validateAdvanceClock},
		{UpdateActivation, p.awaitActivation, nil},
	} {
		opts := workflow.UpdateHandlerOptions{Validator: u.validator}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, opts); err != nil {
			return err
		}
	}
	return nil
}

// refuse builds the refusal an update answers with: the error type is the domain error code
// and the only detail is the offending field, so the starter turns it back into a *domain.Error.
func refuse(code domain.Code, field, format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), string(code),
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{field}})
}

// refuseWith refuses with a domain error's code, field and message.
func refuseWith(e *domain.Error) error { return refuse(e.Code, e.Field, "%s", e.Message) }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// notLive refuses an action on a purchase that is not running; ok when it is.
func (p *purchase) notLive(action string) error { return p.state.notLive(action) }

func (s State) notLive(action string) error {
	switch {
	case s.Status == domain.PurchasePending:
		return refuse(domain.CodeConflict, "", "cannot %s: the purchase is not active yet", action)
	case s.Status.Ended() && s.EndedAt != nil:
		return refuse(domain.CodeConflict, "", "cannot %s: the purchase ended (%s) on %s", action, s.Status, day(*s.EndedAt))
	case s.Status.Ended():
		return refuse(domain.CodeConflict, "", "cannot %s: the purchase is %s", action, s.Status)
	}
	return nil
}

// ---- cancel renewal (signal and update share cancelRenewal) ----

func (p *purchase) validateCancel(ctx workflow.Context, _ CancelRenewalInput) error {
	s := p.state
	if err := p.notLive("cancel renewal"); err != nil {
		return err
	}
	if s.Plan.Type == domain.PlanOneTime {
		return refuse(domain.CodeConflict, "", "cannot cancel renewal: a one-time purchase does not renew")
	}
	if s.CancelledAt != nil {
		return refuse(domain.CodeConflict, "", "renewal is already cancelled: the purchase ends on %s", day(s.PeriodEnd))
	}
	return nil
}

func (p *purchase) updateCancel(ctx workflow.Context, in CancelRenewalInput) (State, error) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateCancel(ctx, in); err != nil {
			return err
		}
		return p.cancelRenewal(ctx, in)
	})
	p.nudge()
	return p.state, err
}

func (p *purchase) onCancelSignal(ctx workflow.Context, in CancelRenewalInput) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateCancel(ctx, in); err != nil {
			p.log.Info("cancel-renewal signal ignored", "reason", err.Error())
			return nil
		}
		return p.cancelRenewal(ctx, in)
	})
	if err != nil {
		p.log.Error("cancel-renewal signal", "error", err)
	}
}

// cancelRenewal: a running purchase goes on to the period end (pending cancellation); one in
// dunning has nothing paid to run on, so it is cancelled at once.
func (p *purchase) cancelRenewal(ctx workflow.Context, in CancelRenewalInput) error {
	s := &p.state
	now := p.stamp(ctx)
	s.CancelledAt, s.CancelReason = &now, in.Reason
	// in dunning with a retry in flight, the retry's outcome decides: paid → runs to period end,
	// failed → cancelled then
	if (s.Status == domain.PurchasePastDue || s.Status == domain.PurchaseSuspended) && s.Charging == nil {
		return p.end(ctx, "cancel", domain.PurchaseCancelled, "cancelled_while_"+string(s.Status))
	}
	return p.write(ctx, "cancel_renewal", s.Status, in.Reason)
}

// ---- reactivate renewal ----

func (p *purchase) validateReactivate(ctx workflow.Context, _ ReactivateInput) error {
	s := p.state
	switch {
	case s.Status == domain.PurchaseCancelled && s.EndedAt != nil:
		return refuse(domain.CodeConflict, "", "cannot reactivate: the period ended on %s", day(*s.EndedAt))
	case s.Status != domain.PurchaseActive && s.Status != domain.PurchaseTrialing && s.Status != domain.PurchasePaused:
		if err := p.notLive("reactivate"); err != nil {
			return err
		}
		return refuse(domain.CodeConflict, "", "cannot reactivate a %s purchase: renewal was not cancelled", s.Status)
	case s.CancelledAt == nil:
		return refuse(domain.CodeConflict, "", "cannot reactivate: renewal is not cancelled")
	case !p.now(ctx).Before(s.PeriodEnd):
		return refuse(domain.CodeConflict, "", "cannot reactivate: the period ended on %s", day(s.PeriodEnd))
	}
	return nil
}

func (p *purchase) updateReactivate(ctx workflow.Context, in ReactivateInput) (State, error) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateReactivate(ctx, in); err != nil {
			return err
		}
		return p.reactivate(ctx)
	})
	p.nudge()
	return p.state, err
}

func (p *purchase) onReactivateSignal(ctx workflow.Context) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateReactivate(ctx, ReactivateInput{}); err != nil {
			p.log.Info("reactivate-renewal signal ignored", "reason", err.Error())
			return nil
		}
		return p.reactivate(ctx)
	})
	if err != nil {
		p.log.Error("reactivate-renewal signal", "error", err)
	}
}

func (p *purchase) reactivate(ctx workflow.Context) error {
	s := &p.state
	from := s.DisplayStatus()
	s.CancelledAt, s.CancelReason = nil, ""
	return p.write(ctx, "reactivate", from, "")
}

// ---- refund ----

// refundTarget finds the payment a refund is of (the current period's, else the latest) and
// the amount (what remains unrefunded when none is asked). idx is -1 for a payment the state
// does not hold (older than it keeps, see bounded.go): Postgres may know it, and the refund
// activity checks it there. forLife (refunds-for-life) lets such a payment through and refuses
// one past the processor's refund window; histories from before it refused the first and
// never checked the second.
func (p *purchase) refundTarget(ctx workflow.Context, in RefundInput, forLife bool) (idx int, amount int64, err error) {
	s := p.state
	idx = -1
	for i, pay := range s.Payments {
		if in.TransactionRef != "" && pay.TxnRef == in.TransactionRef {
			idx = i
		}
		if in.TransactionRef == "" && (idx < 0 || pay.Period == s.Period || s.Payments[idx].Period != s.Period) {
			idx = i
		}
	}
	switch {
	case idx < 0 && in.TransactionRef != "" && forLife:
		return idx, in.Amount, nil
	case idx < 0 && in.TransactionRef != "":
		return idx, 0, refuse(domain.CodeInvalidField, "sourceTransactionRef", "transaction %s is not a payment of purchase %s",
			in.TransactionRef, s.PurchaseRef)
	case idx < 0:
		return idx, 0, refuse(domain.CodeConflict, "", "nothing to refund: purchase %s has no payments", s.PurchaseRef)
	}
	pay := s.Payments[idx]
	remaining := pay.Amount - pay.Refunded
	amount = in.Amount
	if amount == 0 {
		amount = remaining
	}
	switch {
	case in.Amount < 0:
		return idx, 0, refuse(domain.CodeInvalidField, "amount", "a refund amount must be positive")
	case remaining == 0:
		return idx, 0, refuse(domain.CodeConflict, "", "payment %s is already fully refunded", pay.TxnRef)
	case amount > remaining:
		return idx, 0, refuse(domain.CodeInvalidField, "amount",
			"cannot refund %d: only %d of payment %s (%d paid) remains to refund", amount, remaining, pay.TxnRef, pay.Amount)
	case forLife && !pay.PaidAt.IsZero() && p.now(ctx).Sub(pay.PaidAt) > RefundWindow:
		return idx, 0, refuseWith(domain.RefundWindowClosed(pay.TxnRef, pay.PaidAt))
	}
	return idx, amount, nil
}

// refundByKey returns an earlier refund made under the same request key.
func (p *purchase) refundByKey(key string) *Refund {
	for i := range p.state.Refunds {
		if p.state.Refunds[i].Key == key {
			return &p.state.Refunds[i]
		}
	}
	return nil
}

func (p *purchase) validateRefund(ctx workflow.Context, in RefundInput) error {
	return p.checkRefund(ctx, in, true) // validators do not replay: the current rules
}

func (p *purchase) checkRefund(ctx workflow.Context, in RefundInput, forLife bool) error {
	if in.RequestKey == "" {
		return refuse(domain.CodeMissingField, "requestKey", "a refund needs a request key (the Idempotency-Key)")
	}
	if r := p.refundByKey(in.RequestKey); r != nil {
		if (in.TransactionRef != "" && in.TransactionRef != r.SourceRef) || (in.Amount != 0 && in.Amount != r.Amount) {
			return refuse(domain.CodeConflict, "", "request key %q was already used for another refund", in.RequestKey)
		}
		return nil
	}
	if p.state.Status == domain.PurchasePending {
		return p.notLive("refund")
	}
	_, _, err := p.refundTarget(ctx, in, forLife)
	return err
}

func (p *purchase) updateRefund(ctx workflow.Context, in RefundInput) (RefundResult, error) {
	var res RefundResult
	err := p.locked(ctx, func(ctx workflow.Context) error {
		forLife := workflow.GetVersion(ctx, changeRefundsForLife, workflow.DefaultVersion, 1) == 1
		if err := p.checkRefund(ctx, in, forLife); err != nil {
			return err
		}
		if r := p.refundByKey(in.RequestKey); r != nil {
			res = RefundResult{TransactionRef: r.TxnRef, SourceRef: r.SourceRef, Amount: r.Amount}
			return nil
		}
		var err error
		res, err = p.refund(ctx, in, forLife)
		return err
	})
	p.nudge()
	res.State = p.state
	return res, err
}

// refund returns money of a payment. A full refund of the current period's payment revokes
// access (refunded) unless the caller keeps it.
func (p *purchase) refund(ctx workflow.Context, in RefundInput, forLife bool) (RefundResult, error) {
	s := &p.state
	idx, amount, err := p.refundTarget(ctx, in, forLife)
	if err != nil {
		return RefundResult{}, err
	}
	if idx < 0 {
		return p.refundUnheld(ctx, in)
	}
	pay := s.Payments[idx]
	out, err := refundPayment(ctx, RefundPaymentInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef,
		CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, SourceTxnRef: pay.TxnRef, ChargeRef: pay.ProcessorRef,
		Period: pay.Period, Amount: amount, Currency: s.Plan.Currency, IdempotencyKey: RefundKey(s.PurchaseRef, in.RequestKey), Reason: in.Reason,
		Terms: s.termsDigest(), Request: in, At: p.now(ctx)})
	if err != nil {
		return RefundResult{}, refundRefusal(err)
	}
	res := RefundResult{TransactionRef: out.TxnRef, SourceRef: pay.TxnRef, Amount: amount}
	return res, p.applyRefund(ctx, idx, Refund{Key: in.RequestKey, TxnRef: out.TxnRef, SourceRef: pay.TxnRef, Amount: amount,
		ProcessorRef: out.ProcessorRef}, in.KeepAccess, "refund", fmt.Sprintf("refunded %d of %s", amount, pay.TxnRef))
}

// applyRefund books a refund of payment idx, made by Tollgate or elsewhere: a full refund of
// the current period's payment revokes access (refunded) unless keepAccess.
func (p *purchase) applyRefund(ctx workflow.Context, idx int, r Refund, keepAccess bool, action, detail string) error {
	s := &p.state
	s.Payments[idx].Refunded += r.Amount
	s.RefundedTotal += r.Amount
	s.Refunds = append(s.Refunds, r)
	pay := s.Payments[idx]
	if pay.Refunded >= pay.Amount && pay.Period == s.Period && !keepAccess && (s.Status.HasAccess() || s.Status == domain.PurchasePaused) {
		return p.end(ctx, action, domain.PurchaseRefunded, detail)
	}
	return p.write(ctx, action, s.DisplayStatus(), detail)
}

// refundUnheld refunds a payment the state no longer holds. Postgres holds it: the activity
// reads it there, refunds what is asked (or what is left) within what is left, and answers the
// amount. Such a payment is never the current period's, so the purchase's status stays; only
// the refunded total counts it (the state does not remember the refund: a repeated request is
// answered from Postgres).
func (p *purchase) refundUnheld(ctx workflow.Context, in RefundInput) (RefundResult, error) {
	s := &p.state
	out, err := refundPayment(ctx, RefundPaymentInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef,
		CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, SourceTxnRef: in.TransactionRef, Amount: in.Amount,
		Currency: s.Plan.Currency, IdempotencyKey: RefundKey(s.PurchaseRef, in.RequestKey), Reason: in.Reason,
		Terms: s.termsDigest(), Request: in, At: p.now(ctx)})
	if err != nil {
		return RefundResult{}, refundRefusal(err)
	}
	res := RefundResult{TransactionRef: out.TxnRef, SourceRef: in.TransactionRef, Amount: out.Amount}
	if out.Replayed {
		return res, nil
	}
	s.RefundedTotal += out.Amount
	return res, p.write(ctx, "refund", s.DisplayStatus(), fmt.Sprintf("refunded %d of %s", out.Amount, in.TransactionRef))
}

// refundRefusal is what a refund answers when the refund activity refused for good: the
// activity's own code and field (an amount above what is left, a payment past the refund
// window, a transaction that is not the purchase's payment), anything else as a failed refund.
func refundRefusal(err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return err
	}
	switch code := domain.Code(app.Type()); code {
	case domain.CodeInvalidField, domain.CodeConflict, domain.CodeRefundWindowClosed:
		var field string
		if app.HasDetails() {
			_ = app.Details(&field)
		}
		return refuse(code, field, "%s", app.Message())
	}
	return refuse(domain.CodeConflict, "", "the refund failed: %s", app.Message())
}

// ---- change plan (planchange.go) ----

// ---- retry payment (after the customer updated the card) ----

func (p *purchase) validateRetryPayment(ctx workflow.Context, _ RetryPaymentInput) error {
	s := p.state
	if s.Status != domain.PurchasePastDue && s.Status != domain.PurchaseSuspended {
		return refuse(domain.CodeConflict, "", "nothing to retry: the purchase is %s", s.DisplayStatus())
	}
	return nil
}

// updateRetryPayment charges the unpaid period now under the next retry key, after any charge
// in flight (a scheduled retry) has settled. A failure keeps the dunning schedule as it was and
// answers PAYMENT_REQUIRED.
func (p *purchase) updateRetryPayment(ctx workflow.Context, in RetryPaymentInput) (State, error) {
	err := p.lockedIdle(ctx, func(ctx workflow.Context) error {
		if err := p.validateRetryPayment(ctx, in); err != nil {
			return err
		}
		recovered, err := p.retryCharge(ctx)
		if err != nil || recovered || p.state.Status.Ended() {
			return err
		}
		if err := p.write(ctx, "retry_failed", p.state.DisplayStatus(), p.state.Dunning.LastError); err != nil {
			return err
		}
		return refuse(domain.CodePaymentRequired, "", "the payment failed again (%s): update the card and retry",
			p.state.Dunning.LastError)
	})
	p.nudge()
	return p.state, err
}

// ---- test clock ----

func (p *purchase) validateAdvanceClock(ctx workflow.Context, in AdvanceClockInput) error {
	now := p.now(ctx)
	switch {
	case !p.state.Sandbox:
		return refuse(domain.CodeConflict, "", "the test clock works on sandbox purchases only")
	case !in.To.After(now):
		return refuse(domain.CodeInvalidField, "to", "the test clock only moves forward: %s is not after the purchase's time %s",
			in.To.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	case in.To.Sub(now) > MaxClockAdvance:
		return refuse(domain.CodeInvalidField, "to", "the test clock moves at most two years per call")
	}
	return nil
}

// updateAdvanceClock moves the purchase's clock to To and waits until the run loop has played
// every period boundary and dunning event up to it, with their charges.
func (p *purchase) updateAdvanceClock(ctx workflow.Context, in AdvanceClockInput) (State, error) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateAdvanceClock(ctx, in); err != nil {
			return err
		}
		p.state.ClockOffset += in.To.Sub(p.now(ctx))
		return nil
	})
	if err != nil {
		return p.state, err
	}
	p.nudge()
	err = workflow.Await(ctx, func() bool {
		return p.done || (!p.mu.IsLocked() && p.state.Charging == nil && !p.eventDue(ctx))
	})
	return p.state, err
}

// ---- activation ----

// awaitActivation answers once the first payment, trial or free activation is done.
func (p *purchase) awaitActivation(ctx workflow.Context) (State, error) {
	err := workflow.Await(ctx, func() bool {
		return (p.state.Status != domain.PurchasePending || p.state.Authenticating != nil) && !p.mu.IsLocked()
	})
	return p.state, err
}
