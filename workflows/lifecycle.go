package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/payments"
)

// The steps below are the transitions of the DESIGN.md state table, one method each. They run
// holding the mutex.

// activate takes the first payment, starts the trial, or activates a free or usage-based plan
// at zero. A first payment that fails ends the purchase (expired): nothing was ever granted.
func (p *purchase) activate(ctx workflow.Context) error {
	s := &p.state
	if err := p.write(ctx, "create", "", ""); err != nil { // the row transactions refer to
		return err
	}
	now := p.stamp(ctx)
	s.PeriodStart = now
	if s.Plan.TrialDays > 0 && s.Plan.Recurring() {
		end := now.In(p.location()).AddDate(0, 0, s.Plan.TrialDays).UTC()
		s.TrialEnd, s.PeriodEnd, s.Anchor = &end, end, end
		return p.transition(ctx, "start_trial", domain.PurchaseTrialing, "")
	}
	amount := s.Plan.SetupFee
	switch s.Plan.Type {
	case domain.PlanRecurring, domain.PlanHybrid, domain.PlanOneTime:
		amount += periodPrice(s.Plan, s.Quantity)
	}
	charged, note, failure, err := p.chargeOrCarry(ctx, 1, amount, "charge")
	if err != nil {
		return err
	} else if failure != nil {
		if p.awaitFirstAuthentication(ctx, charged, failure) {
			return p.write(ctx, "authentication_required", domain.PurchasePending, p.state.Authenticating.ProcessorRef+
				" waits for the customer's authentication until "+p.state.Authenticating.Until.Format(time.RFC3339))
		}
		return p.end(ctx, "activate", domain.PurchaseExpired, "first_payment_failed: "+failure.Code)
	}
	return p.startFirstPeriod(ctx, now, note)
}

// startFirstPeriod starts period 1 at start, its first payment made.
func (p *purchase) startFirstPeriod(ctx workflow.Context, start time.Time, note string) error {
	s := &p.state
	s.Period, s.Anchor, s.PeriodStart = 1, start, start
	s.PeriodEnd = p.firstPeriodEnd(start)
	return p.transition(ctx, "activate", domain.PurchaseActive, note)
}

// firstPeriodEnd: a billing period for renewing plans, the access window for one-time plans
// (zero = lifetime).
func (p *purchase) firstPeriodEnd(start time.Time) time.Time {
	plan := p.state.Plan
	if plan.Type == domain.PlanOneTime {
		if plan.AccessDays > 0 {
			return start.AddDate(0, 0, plan.AccessDays)
		}
		return time.Time{}
	}
	return plan.PeriodBoundary(start, 1, p.location())
}

// nextEventAt is when the lifecycle next acts on its own, or zero for never (lifetime access).
func (p *purchase) nextEventAt() time.Time {
	s := p.state
	switch {
	case s.Status.Ended():
		if s.EndedAt == nil {
			return time.Time{}
		}
		return s.EndedAt.Add(EndedRetention)
	case s.Status == domain.PurchaseTrialing, s.Status == domain.PurchaseActive:
		return s.PeriodEnd
	case s.Status == domain.PurchasePaused:
		if r := s.Pause.ResumesAt; r != nil && r.Before(s.PeriodEnd) {
			return *r
		}
		return s.PeriodEnd
	case s.Status == domain.PurchasePastDue, s.Status == domain.PurchaseSuspended:
		at, _ := p.nextDunningEvent()
		return at
	case s.Status == domain.PurchasePending && s.Authenticating != nil:
		return s.Authenticating.Until
	}
	return time.Time{}
}

func (p *purchase) nextEventName() string {
	s := p.state
	switch {
	case s.Status.Ended():
		return "end of retention"
	case s.Status == domain.PurchaseTrialing:
		return "trial end"
	case s.Status == domain.PurchaseActive:
		return fmt.Sprintf("end of period %d", s.Period)
	case s.Status == domain.PurchasePending:
		return "end of the first payment's authentication window"
	case s.Status == domain.PurchasePaused:
		if r := s.Pause.ResumesAt; r != nil && !r.After(s.PeriodEnd) {
			return "automatic resume"
		}
		return fmt.Sprintf("end of period %d (paused)", s.Period)
	}
	switch _, ev := p.nextDunningEvent(); ev {
	case dunningRetry:
		return fmt.Sprintf("payment retry %d", s.Dunning.NextRetry+1)
	case dunningGraceEnd:
		return "grace period end"
	}
	return "dunning exhausted"
}

// dunningEvent is what dunning does next.
type dunningEvent int

const (
	dunningRetry     dunningEvent = iota // a scheduled retry
	dunningGraceEnd                      // access stops: suspended
	dunningExhausted                     // nothing left to try: expired
)

// nextDunningEvent: the grace period ending (first on a tie: access goes before the retry), the
// next scheduled retry, or — with retries run out — expiry at once.
func (p *purchase) nextDunningEvent() (time.Time, dunningEvent) {
	d := p.state.Dunning
	at, ev := d.FailedAt, dunningExhausted
	if d.NextRetry < len(d.RetryDays) {
		at, ev = d.retryAt(d.NextRetry), dunningRetry
	}
	if p.state.Status == domain.PurchasePastDue {
		if g := d.graceEnd(); ev == dunningExhausted || !g.After(at) {
			at, ev = g, dunningGraceEnd
		}
	}
	return at, ev
}

// step plays the event that is due.
func (p *purchase) step(ctx workflow.Context) error {
	if !p.eventDue(ctx) { // an update played it while this step waited for the mutex
		return nil
	}
	s := &p.state
	switch s.Status {
	case domain.PurchaseTrialing, domain.PurchaseActive:
		s.RunPeriods++
		return p.periodEnd(ctx)
	case domain.PurchasePastDue, domain.PurchaseSuspended:
		return p.dunningStep(ctx)
	case domain.PurchasePaused:
		return p.pausedStep(ctx)
	case domain.PurchasePending:
		return p.authenticationWindowOver(ctx)
	}
	if s.Status.Ended() {
		p.done = true
	}
	return nil
}

// periodEnd closes the current period (or trial, or one-time access window).
func (p *purchase) periodEnd(ctx workflow.Context) error {
	s := &p.state
	switch {
	case s.CancelledAt != nil:
		if err := p.billFinalUsage(ctx); err != nil || s.Status.Ended() { // ended by a refund meanwhile
			return err
		}
		return p.endAt(ctx, "end_period", domain.PurchaseCancelled, "cancelled", s.PeriodEnd)
	case s.Plan.Type == domain.PlanOneTime:
		return p.endAt(ctx, "end_access", domain.PurchaseExpired, "access_elapsed", s.PeriodEnd)
	case s.Status == domain.PurchaseTrialing:
		return p.endTrial(ctx)
	}
	return p.renew(ctx)
}

// endTrial takes the first payment (price and setup fee); usage of the trial is free.
func (p *purchase) endTrial(ctx workflow.Context) error {
	s := &p.state
	amount := s.Plan.SetupFee
	if s.Plan.Type != domain.PlanUsageBased {
		amount += periodPrice(s.Plan, s.Quantity)
	}
	return p.startPeriod(ctx, "end_trial", p.useCredit(amount))
}

// renew bills the next period at the period end: the recurring price in advance (of the plan a
// scheduled change moves to, if any) plus, for usage-based and hybrid plans, the metered overage
// of the period that ends, at the prices of the plan it was used on.
func (p *purchase) renew(ctx workflow.Context) error {
	s := &p.state
	next, seats := s.Plan, s.Quantity
	if sc := s.ScheduledChange; sc != nil {
		next, seats = sc.Plan, sc.Quantity
	}
	amount := money.Price{Amount: basePrice(next), Quantity: seatsOn(next, seats)}.Total()
	if s.Plan.Metered() {
		var err error
		if amount, err = p.withOverage(ctx, amount); err != nil {
			return err
		}
	}
	if s.ScheduledChange != nil {
		to := seatRef(s.ScheduledChange.Plan.Ref, s.ScheduledChange.Quantity)
		p.applyScheduledChange(s.PeriodEnd)
		if err := p.write(ctx, "change_plan", s.DisplayStatus(), "scheduled change to "+to+" at the period end"); err != nil {
			return err
		}
	}
	return p.startPeriod(ctx, "renew", p.useCredit(amount))
}

// useCredit takes the credit plan changes left off a charge and answers what is left to charge.
func (p *purchase) useCredit(amount int64) int64 {
	use := min(amount, p.state.Credit)
	if use <= 0 {
		return amount
	}
	p.state.Credit -= use
	return amount - use
}

// withOverage adds to base the usage of the current period (every unit recorded up to now that
// no earlier bill took) priced beyond the free units. An overage too large for an int64 is
// refused: never charged, never wrapped into a negative or smaller charge; an audit row
// (overage_refused) and an error in the log say so, and the rest of the bill goes ahead.
func (p *purchase) withOverage(ctx workflow.Context, base int64) (int64, error) {
	s := p.state
	units, err := usageForPeriod(ctx, s.usageBill(""))
	if err != nil {
		return 0, err
	}
	if workflow.GetVersion(ctx, changeCheckedOverage, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return base + max(0, units-s.Plan.FreeUnits)*s.Plan.UnitPrice, nil
	}
	units += s.UnitsOwed // taken from the counters by a declined change
	overage, err := OverageAfter(s.Plan, units, s.UnitsBilled)
	total := base
	if err == nil {
		total, err = money.Add(base, overage)
	}
	if err != nil {
		detail := fmt.Sprintf("%d units at %d per unit: %v; the overage is not charged", units, s.Plan.UnitPrice, err)
		p.log.Error("overage refused", "purchase", s.PurchaseRef, "period", s.Period, "detail", detail)
		return base, p.write(ctx, "overage_refused", s.DisplayStatus(), detail)
	}
	return total, nil
}

// usageBill names the usage of the current period to bill, under key inside the period.
func (s State) usageBill(key string) UsageInput {
	since := s.StartedAt.Truncate(time.Second) // the first period's start (activate stamps it)
	if s.TrialEnd != nil {                     // usage of the trial is free
		since = *s.TrialEnd
	}
	return UsageInput{MerchantRef: s.MerchantRef, CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef,
		Meter: s.Plan.Meter, PeriodStart: s.PeriodStart, Since: since, Key: key}
}

// UsageBill is the usage bill of the purchase's current period, as the workflow names it (the
// preview reads the same units without billing them).
func (s State) UsageBill() UsageInput { return s.usageBill("") }

// Overage is what usage costs beyond the plan's free units, or money.ErrOverflow.
func Overage(plan domain.Plan, units int64) (int64, error) { return OverageAfter(plan, units, 0) }

// OverageAfter is what units cost on plan when billedBefore units of the same period were
// billed already (by a plan change): those used up the free units first.
func OverageAfter(plan domain.Plan, units, billedBefore int64) (int64, error) {
	free := max(0, plan.FreeUnits-billedBefore)
	if units <= free {
		return 0, nil
	}
	return money.Mul(units-free, plan.UnitPrice) // free units are never negative: no overflow
}

// startPeriod moves to the next period and charges for it. A failed charge leaves the new
// period unpaid: past due, with the merchant's retry schedule counted from the boundary.
func (p *purchase) startPeriod(ctx workflow.Context, action string, amount int64) error {
	s := &p.state
	boundary := s.PeriodEnd
	s.UnitsBilled, s.UnitsOwed = 0, 0
	s.Period++
	s.PeriodStart = boundary
	s.PeriodEnd = p.anchoredPeriodEnd(ctx)
	p.forgetOldPayments(ctx, boundary)
	charged, note, failure, err := p.chargeOrCarry(ctx, s.Period, amount, "charge")
	if err != nil {
		return err
	}
	if failure == nil {
		return p.transition(ctx, action, domain.PurchaseActive, note)
	}
	return p.enterPastDue(ctx, charged, boundary, failure)
}

// enterPastDue starts dunning with the merchant's schedule as it is now.
func (p *purchase) enterPastDue(ctx workflow.Context, amount int64, failedAt time.Time, failure *ChargeFailure) error {
	if p.state.CancelledAt != nil { // cancelled while the charge was in flight: nothing to dun
		return p.end(ctx, "cancel", domain.PurchaseCancelled, "cancelled_while_charging: "+failure.Code)
	}
	policy, err := dunningPolicy(ctx, p.state.MerchantRef)
	if err != nil {
		return err
	}
	p.state.Dunning = &Dunning{Period: p.state.Period, Amount: amount, FailedAt: failedAt,
		RetryDays: policy.RetryDays, GraceDays: policy.GraceDays, LastError: failure.Code}
	p.state.Dunning.awaitAuthentication(failure)
	return p.transition(ctx, "payment_failed", domain.PurchasePastDue, failure.Code)
}

// awaitAuthentication keeps the payment a decline left open for the customer to authenticate
// (3-D Secure); other declines leave the last one that asked.
func (d *Dunning) awaitAuthentication(failure *ChargeFailure) {
	if failure.Code == payments.CodeAuthenticationRequired && failure.ProcessorRef != "" {
		d.Authentication = &Authentication{TxnRef: failure.TxnRef, ProcessorRef: failure.ProcessorRef}
	}
}

// dunningStep plays the due dunning event: suspension at the grace period's end, a scheduled
// retry, or expiry when the schedule has run out.
func (p *purchase) dunningStep(ctx workflow.Context) error {
	s := &p.state
	d := s.Dunning
	at, ev := p.nextDunningEvent()
	switch ev {
	case dunningGraceEnd:
		return p.transition(ctx, "suspend", domain.PurchaseSuspended, "")
	case dunningExhausted:
		return p.endAt(ctx, "dunning_exhausted", domain.PurchaseExpired, "dunning_exhausted", at)
	}
	d.NextRetry++
	recovered, err := p.retryCharge(ctx)
	if err != nil || recovered || s.Status.Ended() {
		return err
	}
	if d.NextRetry >= len(d.RetryDays) { // the last retry failed
		return p.endAt(ctx, "dunning_exhausted", domain.PurchaseExpired, "dunning_exhausted", at)
	}
	return p.write(ctx, "retry_failed", s.DisplayStatus(), d.LastError)
}

// retryCharge tries to collect the unpaid period again under the next retry key; success
// makes the purchase active again for the period it pays.
func (p *purchase) retryCharge(ctx workflow.Context) (recovered bool, err error) {
	s := &p.state
	d := s.Dunning
	d.Attempts++
	failure, err := p.collect(ctx, d.Period, d.Amount, fmt.Sprintf("retry-%d", d.Attempts))
	if err != nil {
		return false, err
	}
	if failure != nil {
		d.LastError = failure.Code
		d.awaitAuthentication(failure)
		if s.CancelledAt != nil { // cancelled while the retry was in flight
			return false, p.end(ctx, "cancel", domain.PurchaseCancelled, "cancelled_while_"+string(s.Status))
		}
		return false, nil
	}
	s.Dunning = nil
	return true, p.transition(ctx, "recover", domain.PurchaseActive, "")
}

// chargeOrCarry charges amount for period together with what earlier charges carried. A total
// the processor would refuse as too small for the currency (money.BelowMinimum) is never sent:
// the purchase carries it to its next charge, and note says so for the audit row. A total of
// zero charges nothing. charged is the amount sent (what dunning collects if it fails).
func (p *purchase) chargeOrCarry(ctx workflow.Context, period int, amount int64, what string) (charged int64, note string, failure *ChargeFailure, err error) {
	s := &p.state
	if workflow.GetVersion(ctx, changeMinimumCharge, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		failure, err = p.collect(ctx, period, amount, what)
		return amount, "", failure, err
	}
	total := amount
	if t, err := money.Add(amount, s.Carried); err == nil { // a sum out of range keeps the carried amount for later
		total, s.Carried = t, 0
	}
	if cur := s.Plan.Currency; money.BelowMinimum(cur, total) {
		s.Carried = total
		return 0, fmt.Sprintf("carried %d %s: below the minimum charge of %d", total, cur, money.MinimumCharge(cur)), nil, nil
	}
	failure, err = p.collect(ctx, period, total, what)
	return total, "", failure, err
}

// carrySmall carries amount to the purchase's next charge when the processor would refuse it as
// too small, and reports whether it did: for a charge of its own that has no next period (a plan
// change's difference).
func (p *purchase) carrySmall(ctx workflow.Context, amount int64) bool {
	s := &p.state
	if workflow.GetVersion(ctx, changeMinimumCharge, workflow.DefaultVersion, 1) == workflow.DefaultVersion ||
		!money.BelowMinimum(s.Plan.Currency, amount) {
		return false
	}
	s.Carried += amount // both below the minimum: no overflow
	return true
}

// collect charges amount for period under key <purchase>/period-<n>/<what>; zero charges
// nothing. A decline comes back as failure, and the failed charge is recorded by the activity.
func (p *purchase) collect(ctx workflow.Context, period int, amount int64, what string) (*ChargeFailure, error) {
	if amount <= 0 {
		return nil, nil
	}
	s := &p.state
	key := fmt.Sprintf("%s/period-%d/%s", s.PurchaseRef, period, what)
	in := ChargeInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef,
		CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, Period: period, Amount: amount,
		Currency: s.Plan.Currency, IdempotencyKey: key, Terms: s.termsDigest(), At: p.stamp(ctx),
		Description: fmt.Sprintf("%s — period %d", s.Plan.Name, period)}
	in.PeriodStart, in.PeriodEnd = p.paidSpan(period)
	var res ChargeResult
	var failure *ChargeFailure
	var err error
	if workflow.GetVersion(ctx, changeChargeRounds, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		res, failure, err = charge(ctx, in)
	} else {
		res, failure, err = p.settle(ctx, in)
	}
	if err != nil || failure != nil {
		return failure, err
	}
	pay := Payment{TxnRef: res.TxnRef, ProcessorRef: res.ProcessorRef, Period: period, Amount: res.charged(amount),
		Key: key, PaidAt: p.stamp(ctx), Processing: res.Processing}
	if pay.Amount != amount {
		pay.Asked = amount
	}
	s.Payments = append(s.Payments, pay)
	if !res.Processing { // a processing payment counts when it settles (processor_events.go)
		s.PaidTotal += pay.Amount
	}
	return nil, nil
}

// paidSpan is the span a charge for period pays, for its invoice line: the current period's, or
// period 1's from its start when the first payment is taken before the period starts; nil when
// the charge is for another period. It reads the state only (no commands).
func (p *purchase) paidSpan(period int) (start, end *time.Time) {
	s := &p.state
	var to time.Time
	switch {
	case period == s.Period && period > 0:
		to = s.PeriodEnd
	case period == 1 && s.Period == 0 && !s.PeriodStart.IsZero():
		to = p.firstPeriodEnd(s.PeriodStart)
	default:
		return nil, nil
	}
	from := s.PeriodStart
	if to.IsZero() { // lifetime access: no end
		return &from, nil
	}
	return &from, &to
}

// transition moves to status and records it (projection, audit, search attributes).
func (p *purchase) transition(ctx workflow.Context, action string, to domain.PurchaseStatus, detail string) error {
	from := p.state.DisplayStatus()
	p.state.Status = to
	return p.write(ctx, action, from, detail)
}

// end finishes the purchase now.
func (p *purchase) end(ctx workflow.Context, action string, to domain.PurchaseStatus, reason string) error {
	return p.endAt(ctx, action, to, reason, p.stamp(ctx))
}

// endAt finishes the purchase at a given time (a period end that was due, not when it was noticed).
func (p *purchase) endAt(ctx workflow.Context, action string, to domain.PurchaseStatus, reason string, at time.Time) error {
	s := &p.state
	s.EndedAt, s.EndReason, s.Dunning, s.Pause = &at, reason, nil, nil
	return p.transition(ctx, action, to, reason)
}

// write records the state: the projection and audit row in Postgres (with the next sequence
// number), then the search attributes.
func (p *purchase) write(ctx workflow.Context, action string, from domain.PurchaseStatus, detail string) error {
	p.state.Seq++
	in := ProjectInput{Purchase: p.state.Projection(), MerchantRef: p.state.MerchantRef, Seq: p.state.Seq,
		Terms: p.state.termsDigest(), StepAt: workflow.Now(ctx)}
	if action != "" {
		in.Audit = &AuditInput{Action: action, FromStatus: string(from), ToStatus: string(p.state.DisplayStatus()),
			Actor: "workflow", Detail: detail}
	}
	if err := project(ctx, in); err != nil {
		return err
	}
	p.syncSearchAttributes(ctx)
	return nil
}

// billFinalUsage charges the metered overage of the last period of a cancelled usage-based or
// hybrid purchase, which no renewal will bill, with what earlier charges carried; a total below
// the processor's minimum stays carried and is never charged. A decline is recorded (failed
// transaction) and the purchase ends anyway: there is no next period to withhold.
func (p *purchase) billFinalUsage(ctx workflow.Context) error {
	s := &p.state
	if !s.Plan.Metered() || s.Status != domain.PurchaseActive {
		return nil
	}
	if workflow.GetVersion(ctx, changeFinalUsage, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	overage, err := p.withOverage(ctx, 0)
	if err != nil {
		return err
	}
	_, _, _, err = p.chargeOrCarry(ctx, s.Period, overage, "final-usage")
	return err
}

// anchoredPeriodEnd is the end of the current period, counted from the anchor. Histories recorded
// before the anchor was kept chained each end to the previous one (Jan 31 → Feb 28 → Mar 28).
func (p *purchase) anchoredPeriodEnd(ctx workflow.Context) time.Time {
	s := &p.state
	if workflow.GetVersion(ctx, changeAnchoredPeriods, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return s.Plan.PeriodEnd(s.PeriodStart)
	}
	if s.Anchor.IsZero() { // bought before the anchor was kept: activation, or the trial's end
		s.Anchor = s.StartedAt.Truncate(time.Second)
		if s.TrialEnd != nil {
			s.Anchor = *s.TrialEnd
		}
	}
	end := s.Plan.PeriodBoundary(s.Anchor, s.Period-s.AnchorPeriod, p.location())
	if !end.After(s.PeriodStart) { // an inferred anchor that does not fit: never a period of no length
		end = s.Plan.PeriodEnd(s.PeriodStart)
	}
	return end
}
