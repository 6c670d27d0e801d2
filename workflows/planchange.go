package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
)

// A plan change is a step of the purchase's own workflow (DESIGN.md "The purchase lifecycle"):
// the purchase keeps its reference, its workflow and its anchor. An upgrade takes effect now,
// prorated by the second (money.Prorations): the unused part of the period is credited at the
// old price, the rest is charged at the new one, and the difference is charged at once under
// <purchase>/change-<n>/charge; a decline leaves the purchase on its old plan, unchanged. A
// downgrade waits for the period end (ScheduledChange) and is applied there, before the renewal
// charges the new price. QuoteChange is the one computation of both the change and its preview.
//
// Seats are the same change (as Stripe's subscription item quantity is an update of the same
// subscription): a per-seat plan's price is Price × Quantity, so more seats is an upgrade (now,
// prorated) and fewer a downgrade (at the period end), with the same lines and keys; a change
// may move the plan and the seats at once.

// Options of a plan change.
const (
	ProrateCreate        = "create_prorations" // settle the prorations now; a net credit is kept for the next charges
	ProrateNone          = "none"              // switch without prorating (a new cycle length still charges its period)
	ProrateAlwaysInvoice = "always_invoice"    // settle everything now: a net credit is refunded at once
	EffectiveNow         = "now"
	EffectivePeriodEnd   = "period_end"
)

// Directions of a change, by what the plans cost per day.
const (
	ChangeUpgrade   = "upgrade"
	ChangeDowngrade = "downgrade"
	ChangeLateral   = "same_price"
)

// PlanChange is the latest change made, or attempted and declined.
type PlanChange struct {
	Seq         int
	Key         string
	FromPlanRef string
	ToPlanRef   string
	// FromQuantity and ToQuantity are the seats before and after (0 in changes before seats: 1).
	FromQuantity      int64 `json:",omitempty"`
	ToQuantity        int64 `json:",omitempty"`
	At                time.Time
	Effective         string
	ProrationBehavior string
	Lines             []money.Line `json:",omitempty"`
	// Total is what the change settled: charged when positive, credited when negative.
	Total     int64
	TxnRef    string   `json:",omitempty"` // the change's charge
	RefundRef []string `json:",omitempty"` // refunds of an always_invoice credit
	// Declined says why the change's charge failed: the plan did not change.
	Declined string `json:",omitempty"`
	// Carried: Total was below the processor's minimum charge, so it went to State.Carried and
	// is charged with the next renewal.
	Carried bool `json:",omitempty"`
}

// ScheduledChange is a change waiting for the period end (a downgrade, by default).
type ScheduledChange struct {
	Key               string
	Plan              domain.Plan
	Quantity          int64     `json:",omitempty"` // the seats from At on (0: 1)
	At                time.Time // the period end it takes effect at
	RequestedAt       time.Time
	ProrationBehavior string `json:",omitempty"`
}

// names says what the scheduled change moves the purchase s from and to.
func (sc *ScheduledChange) names(s *State) string {
	return changeNames(s.Plan.Ref, s.Quantity, sc.Plan.Ref, sc.Quantity)
}

// CancelScheduledChangeInput cancels the scheduled change.
type CancelScheduledChangeInput struct{}

// ChangeQuote is what a change settles now and at the next renewal: the answer of the preview
// and the record of the change, computed by one function (QuoteChange).
type ChangeQuote struct {
	PurchaseRef       string
	FromPlanRef       string
	ToPlanRef         string
	FromQuantity      int64
	ToQuantity        int64
	Direction         string
	Effective         string
	ProrationBehavior string
	// At is when the new plan takes over; ProrationDate the instant the lines are priced at
	// (zero for a change at the period end).
	At            time.Time
	ProrationDate time.Time `json:",omitzero"`
	Currency      string
	Lines         []money.Line
	Total         int64 // > 0 charged now, < 0 credited now
	// NextRenewal is what the first renewal after the change will ask for: the new plan's price,
	// less credit kept; metered overage comes on top.
	NextRenewalAt    time.Time `json:",omitzero"`
	NextRenewal      []money.Line
	NextRenewalTotal int64
	// CreditAfter is the credit the purchase keeps after the change.
	CreditAfter int64

	newPeriod money.Period // the period after a change now
}

// QuoteChange prices in against the purchase's state at now (the purchase's clock). It refuses
// what the change would refuse, with the same message. Pure: the preview calls it with the
// state the query answers, the change with its own, and both agree to the minor unit at the
// same instant (ProrationDate).
func QuoteChange(s State, in ChangePlanInput, now time.Time) (ChangeQuote, error) {
	if err := s.changeRefusal(in, now); err != nil {
		return ChangeQuote{}, err
	}
	np, seats := s.ChangeTarget(in)
	loc := s.Location()
	trial := s.Status == domain.PurchaseTrialing
	q := ChangeQuote{PurchaseRef: s.PurchaseRef, FromPlanRef: s.Plan.Ref, ToPlanRef: np.Ref, Currency: s.Plan.Currency,
		FromQuantity: s.seats(), ToQuantity: seats,
		Direction: direction(planPrice(s.Plan, s.Quantity), s.Plan, planPrice(np, seats), np), Effective: in.Effective,
		ProrationBehavior: in.ProrationBehavior}
	if q.ProrationBehavior == "" {
		q.ProrationBehavior = ProrateCreate
	}
	if q.Effective == "" {
		q.Effective = EffectiveNow
		if q.Direction == ChangeDowngrade && !trial {
			q.Effective = EffectivePeriodEnd
		}
	}
	credit := s.Credit
	if q.Effective == EffectivePeriodEnd {
		q.At, q.NextRenewalAt = s.PeriodEnd, s.PeriodEnd
	} else {
		at := now.Truncate(time.Second)
		if in.ProrationDate != nil {
			at = in.ProrationDate.UTC().Truncate(time.Second)
		}
		q.At, q.ProrationDate = at, at
		q.newPeriod = money.Period{Start: s.PeriodStart, End: s.PeriodEnd}
		cycleChange := !sameCycle(s.Plan, np) && !trial
		if cycleChange { // a new cycle length starts a period at the change (as Stripe does)
			q.newPeriod = money.Period{Start: at, End: np.PeriodBoundary(at, 1, loc)}
		}
		lines := money.Prorations(money.Change{At: at, Trial: trial,
			Old: money.Period{Start: s.PeriodStart, End: s.PeriodEnd}, OldPrice: planPrice(s.Plan, s.Quantity),
			New: q.newPeriod, NewPrice: planPrice(np, seats),
			OldName: seatsName(s.Plan, s.Quantity), NewName: seatsName(np, seats), Currency: q.Currency})
		for _, l := range lines {
			if q.ProrationBehavior == ProrateNone && (l.Kind == money.LineCredit || !cycleChange) {
				continue
			}
			q.Lines = append(q.Lines, l)
		}
		if l, ok := s.usageLine(at); ok {
			q.Lines = append(q.Lines, l)
		}
		if t := money.Sum(q.Lines); t > 0 && credit > 0 { // credit kept from earlier changes pays first
			use := min(t, credit)
			credit -= use
			q.Lines = append(q.Lines, money.Line{Kind: money.LineBalance, Amount: -use,
				Description: "Credit from earlier plan changes"})
		}
		q.Total = money.Sum(q.Lines)
		if q.Total < 0 && q.ProrationBehavior != ProrateAlwaysInvoice {
			credit -= q.Total
		}
		q.NextRenewalAt = q.newPeriod.End
	}
	q.CreditAfter = credit // an always_invoice credit is refunded; what no payment can take is kept (refundCredit)
	q.NextRenewal = renewalLines(np, seats, credit, trial)
	q.NextRenewalTotal = money.Sum(q.NextRenewal)
	return q, nil
}

// usageLine bills the old plan's metered overage up to a change now, at the old plan's prices:
// UnitsOwed are the units recorded up to the change that no bill has charged, UnitsBilled
// those an earlier change of the period charged (they used the free units first).
func (s State) usageLine(at time.Time) (money.Line, bool) {
	if !s.Plan.Metered() || s.Status == domain.PurchaseTrialing || s.UnitsOwed <= 0 {
		return money.Line{}, false
	}
	desc := fmt.Sprintf("Usage on %s up to the change (%d units, %d free)", s.Plan.Name, s.UnitsOwed,
		min(s.UnitsOwed, max(0, s.Plan.FreeUnits-s.UnitsBilled)))
	amount, err := OverageAfter(s.Plan, s.UnitsOwed, s.UnitsBilled)
	if err != nil { // as a renewal refuses it: never charged, never wrapped
		amount, desc = 0, desc+": too large to charge, not charged"
	}
	return money.Line{Kind: money.LineUsage, Amount: amount, Quantity: s.UnitsOwed, From: s.PeriodStart, To: at,
		Description: desc}, true
}

// renewalLines are the lines of the first renewal on plan: its price (and setup fee after a
// trial), less the credit kept.
func renewalLines(plan domain.Plan, seats, credit int64, trial bool) []money.Line {
	pp := planPrice(plan, seats)
	price := pp.Total()
	if trial {
		price += plan.SetupFee
	}
	var lines []money.Line
	if price > 0 {
		lines = append(lines, money.Line{Kind: money.LineCharge, Amount: price, Quantity: max(pp.Quantity, 1),
			Description: fmt.Sprintf("%s, next period", seatsName(plan, seats))})
	}
	if use := min(price, credit); use > 0 {
		lines = append(lines, money.Line{Kind: money.LineBalance, Amount: -use, Description: "Credit from plan changes"})
	}
	return lines
}

// changeRefusal says why in cannot be done now, or nil.
func (s State) changeRefusal(in ChangePlanInput, now time.Time) error {
	if err := s.notLive("change plan"); err != nil {
		return err
	}
	np, seats := s.ChangeTarget(in)
	planErr := s.newPlanRefusal(np)
	if np.Ref == s.Plan.Ref { // a change of seats alone
		planErr = nil
		switch {
		case seats == s.seats() && in.Quantity != 0:
			planErr = refuse(domain.CodeConflict, "quantity", "the purchase is already on plan %s with quantity %d", np.Ref, seats)
		case seats == s.seats():
			planErr = refuse(domain.CodeConflict, "planRef", "the purchase is already on plan %s", np.Ref)
		}
	}
	if planErr == nil && (in.Quantity != 0 || np.PerSeat) {
		if e := domain.AsError(np.CheckQuantity(seats)); e != nil {
			planErr = refuseWith(e)
		}
	}
	switch {
	case s.Status == domain.PurchasePastDue || s.Status == domain.PurchaseSuspended:
		return refuse(domain.CodeConflict, "", "cannot change plan: the purchase is %s; the unpaid period must be paid first (retry-payment)", s.Status)
	case s.Status == domain.PurchasePaused:
		return refuse(domain.CodeConflict, "", "cannot change plan: the purchase is paused; resume it first")
	case s.CancelledAt != nil:
		return refuse(domain.CodeConflict, "", "cannot change plan: renewal is cancelled (the purchase ends on %s); reactivate it first", day(s.PeriodEnd))
	case s.Plan.Type == domain.PlanOneTime || np.Type == domain.PlanOneTime:
		return refuse(domain.CodeInvalidField, "planRef", "cannot change plan: one-time plans have no period to prorate; buy the plan instead")
	case planErr != nil:
		return planErr
	case np.Currency != s.Plan.Currency && basePrice(s.Plan)+basePrice(np) > 0:
		return refuse(domain.CodeInvalidField, "planRef", "cannot change to plan %s: it is priced in %s, the purchase in %s",
			np.Ref, np.Currency, s.Plan.Currency)
	}
	switch in.ProrationBehavior {
	case "", ProrateCreate, ProrateNone, ProrateAlwaysInvoice:
	default:
		return refuse(domain.CodeInvalidField, "prorationBehavior", "prorationBehavior must be %s, %s or %s", ProrateCreate, ProrateNone, ProrateAlwaysInvoice)
	}
	switch in.Effective {
	case "", EffectiveNow:
	case EffectivePeriodEnd:
		if s.Status == domain.PurchaseTrialing {
			return refuse(domain.CodeInvalidField, "effective", "a change during a trial takes effect now: nothing is paid until the trial ends")
		}
	default:
		return refuse(domain.CodeInvalidField, "effective", "effective must be %s or %s", EffectiveNow, EffectivePeriodEnd)
	}
	if d := in.ProrationDate; d != nil {
		from := s.PeriodStart
		if c := s.LastChange; c != nil && c.Declined == "" && c.At.After(from) {
			from = c.At
		}
		if d.Before(from) || d.After(now) || !d.Before(s.PeriodEnd) {
			return refuse(domain.CodeInvalidField, "prorationDate", "prorationDate must lie between %s and now",
				from.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// newPlanRefusal refuses a plan no change can move to: the purchase's own, another product's, or
// one not on sale; nil when none of these. Changes in place and the plan switches of older
// histories refuse alike.
func (s State) newPlanRefusal(np domain.Plan) error {
	switch {
	case np.Ref == s.Plan.Ref:
		return refuse(domain.CodeConflict, "planRef", "the purchase is already on plan %s", np.Ref)
	case np.ProductRef != s.Plan.ProductRef:
		return refuse(domain.CodeInvalidField, "planRef", "plan %s belongs to another product than purchase %s", np.Ref, s.PurchaseRef)
	case np.Status != domain.StatusActive:
		return refuse(domain.CodeInvalidField, "planRef", "cannot change to plan %s: the plan is %s", np.Ref, np.Status)
	}
	return nil
}

// ChangeTarget is the plan and seats a change moves the purchase to: the purchase's own plan as
// bought when in names no other (a change of seats alone); the seats asked for, else the
// purchase's on a per-seat plan, else 1. The starter records the terms of both before it asks.
func (s State) ChangeTarget(in ChangePlanInput) (domain.Plan, int64) {
	np := in.NewPlan
	if np.Ref == "" || np.Ref == s.Plan.Ref {
		np = s.Plan
	}
	switch {
	case in.Quantity != 0:
		return np, in.Quantity
	case np.PerSeat && s.Plan.PerSeat:
		return np, s.seats()
	}
	return np, 1
}

// seats is the purchase's quantity (1 for purchases bought before seats).
func (s State) seats() int64 { return domain.Quantity(s.Quantity) }

// planPrice is what plan charges per period before usage for seats: its price per seat and the
// seats it counts (none, priced once, on a plan not per seat).
func planPrice(p domain.Plan, seats int64) money.Price {
	return money.Price{Amount: basePrice(p), Quantity: seatsOn(p, seats)}
}

// periodPrice is Price × seats on a per-seat plan, Price on any other: the entry points refused
// seats whose product does not fit (domain.Plan.CheckQuantity).
func periodPrice(p domain.Plan, seats int64) int64 {
	return money.Price{Amount: p.Price, Quantity: seatsOn(p, seats)}.Total()
}

// seatsName names a plan in a line: with its seats when per seat ("Team × 5 seats").
func seatsName(p domain.Plan, seats int64) string {
	if !p.PerSeat {
		return p.Name
	}
	return fmt.Sprintf("%s × %d seats", p.Name, domain.Quantity(seats))
}

// basePrice is what a plan charges per period before usage.
func basePrice(p domain.Plan) int64 {
	if p.Type == domain.PlanRecurring || p.Type == domain.PlanHybrid {
		return p.Price
	}
	return 0
}

// nominalDays is a cycle's length for comparing prices per day (months are 30 days here only).
func nominalDays(p domain.Plan) int64 {
	switch p.BillingCycle {
	case domain.CycleWeekly:
		return 7
	case domain.CycleQuarterly:
		return 91
	case domain.CycleYearly:
		return 365
	case domain.CycleCustom:
		if p.CycleDays > 0 {
			return int64(p.CycleDays)
		}
	}
	return 30
}

func sameCycle(a, b domain.Plan) bool { return nominalDays(a) == nominalDays(b) }

// direction compares what the plans cost per day, seats counted.
func direction(fromPrice money.Price, from domain.Plan, toPrice money.Price, to domain.Plan) string {
	switch money.RateCmp(toPrice, nominalDays(to), fromPrice, nominalDays(from)) {
	case 1:
		return ChangeUpgrade
	case -1:
		return ChangeDowngrade
	}
	return ChangeLateral
}

// ---- the update ----

func (p *purchase) validateChangePlan(ctx workflow.Context, in ChangePlanInput) error {
	if in.NewPurchaseRef != "" {
		return p.validateSwitchPlan(in)
	}
	if p.changeByKey(in.RequestKey) {
		return nil // a retried change: answered as it was
	}
	if err := p.chargingRefusal("change plan"); err != nil {
		return err
	}
	_, err := QuoteChange(p.state, in, p.now(ctx))
	return err
}

// changeByKey reports whether the request was already answered (made, scheduled or declined).
func (p *purchase) changeByKey(key string) bool {
	s := p.state
	return key != "" && ((s.LastChange != nil && s.LastChange.Key == key) ||
		(s.ScheduledChange != nil && s.ScheduledChange.Key == key))
}

// updateChangePlan makes the change now or schedules it for the period end, after any charge
// in flight has settled (two charges of one purchase never overlap).
func (p *purchase) updateChangePlan(ctx workflow.Context, in ChangePlanInput) (State, error) {
	if workflow.GetVersion(ctx, changePlanInPlace, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return p.switchPlan(ctx, in)
	}
	err := p.lockedIdle(ctx, func(ctx workflow.Context) error {
		if err := p.validateChangePlan(ctx, in); err != nil {
			return err
		}
		if p.changeByKey(in.RequestKey) {
			if c := p.state.LastChange; c != nil && c.Key == in.RequestKey && c.Declined != "" {
				return declined(c)
			}
			return nil
		}
		q, err := QuoteChange(p.state, in, p.now(ctx))
		if err != nil {
			return err
		}
		if q.Effective == EffectivePeriodEnd {
			return p.scheduleChange(ctx, in, q)
		}
		if p.state.Plan.Metered() && p.state.Status != domain.PurchaseTrialing &&
			workflow.GetVersion(ctx, changeUsageAtChange, workflow.DefaultVersion, 1) == 1 {
			// The old plan's usage up to the change goes with the change, at its prices. The units
			// leave the counters here; a declined change leaves them owed to the renewal.
			units, err := usageForPeriod(ctx, p.state.usageBill(fmt.Sprintf("change-%d", p.state.ChangeSeq+1)))
			if err != nil {
				return err
			}
			p.state.UnitsOwed += units
			if q, err = QuoteChange(p.state, in, p.now(ctx)); err != nil {
				return err
			}
		}
		return p.changeNow(ctx, in, q)
	})
	p.nudge()
	return p.state, err
}

// changeNow settles the quote and moves the purchase to the new plan. The new terms were
// recorded by the starter before the update, so the change's charge and every later one pass
// the worker's check; a decline refuses the update and leaves the plan as it was.
func (p *purchase) changeNow(ctx workflow.Context, in ChangePlanInput, q ChangeQuote) error {
	s := &p.state
	np, seats := s.ChangeTarget(in)
	s.ChangeSeq++
	c := &PlanChange{Seq: s.ChangeSeq, Key: in.RequestKey, FromPlanRef: s.Plan.Ref, ToPlanRef: np.Ref, At: q.At,
		FromQuantity: s.Quantity, ToQuantity: seatsOn(np, seats),
		Effective: q.Effective, ProrationBehavior: q.ProrationBehavior, Lines: q.Lines, Total: q.Total}
	newTerms := s.termsWith(np, seats)
	if q.Total > 0 && p.carrySmall(ctx, q.Total) { // below the processor's minimum: with the next charge
		c.Carried = true
	} else if q.Total > 0 {
		key := fmt.Sprintf("%s/change-%d/charge", s.PurchaseRef, c.Seq)
		res, failure, err := p.settle(ctx, ChargeInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef,
			CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, Period: s.Period, Amount: q.Total,
			Currency: s.Plan.Currency, IdempotencyKey: key, Terms: newTerms,
			Description: fmt.Sprintf("Change to %s — period %d", seatsName(np, seats), s.Period)})
		if err != nil {
			return err
		}
		if failure != nil {
			c.Declined = failure.Code
			s.LastChange = c
			if err := p.write(ctx, "change_plan_declined", s.DisplayStatus(), fmt.Sprintf("%s: %s", c.names(), failure.Code)); err != nil {
				return err
			}
			return declined(c)
		}
		c.TxnRef = res.TxnRef
		s.Payments = append(s.Payments, Payment{TxnRef: res.TxnRef, ProcessorRef: res.ProcessorRef, Period: s.Period,
			Amount: res.charged(q.Total), Key: key, PaidAt: p.stamp(ctx)})
		s.PaidTotal += res.charged(q.Total)
	}
	if s.Status.Ended() { // ended (a full refund) while the charge was in flight: nothing to change
		s.LastChange = c
		return nil
	}
	s.Credit = q.CreditAfter
	if q.Total < 0 && q.ProrationBehavior == ProrateAlwaysInvoice {
		if err := p.refundCredit(ctx, c, -q.Total); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(q.Lines, func(l money.Line) bool { return l.Kind == money.LineUsage }) {
		s.UnitsBilled, s.UnitsOwed = s.UnitsBilled+s.UnitsOwed, 0
	}
	if q.newPeriod.Start != s.PeriodStart { // a new cycle length: the period starts at the change
		s.Anchor, s.AnchorPeriod = q.newPeriod.Start, s.Period-1
		s.PeriodStart, s.PeriodEnd = q.newPeriod.Start, q.newPeriod.End
		s.UnitsBilled = 0
	}
	s.Plan, s.Quantity, s.LastChange, s.ScheduledChange = np, c.ToQuantity, c, nil
	return p.write(ctx, "change_plan", s.DisplayStatus(), changeDetail(c, s.Plan.Currency))
}

// declined is the refusal of a change whose charge was declined.
func declined(c *PlanChange) error {
	return refuse(domain.CodePaymentRequired, "", "the plan change was not made: the payment of its difference was declined (%s); the purchase stays on plan %s",
		c.Declined, c.FromPlanRef)
}

func changeDetail(c *PlanChange, currency string) string {
	switch {
	case c.Total > 0 && c.Carried:
		return fmt.Sprintf("%s: %s carried to the next charge (below the minimum charge)", c.names(), money.Format(c.Total, currency))
	case c.Total > 0:
		return fmt.Sprintf("%s: charged %s", c.names(), money.Format(c.Total, currency))
	case c.Total < 0:
		return fmt.Sprintf("%s: credited %s", c.names(), money.Format(-c.Total, currency))
	}
	return c.names()
}

// names says what a change moved: "pln_a → pln_b", with the seats when either side has some
// ("pln_a × 3 → pln_a × 5").
func (c *PlanChange) names() string {
	return changeNames(c.FromPlanRef, c.FromQuantity, c.ToPlanRef, c.ToQuantity)
}

func changeNames(from string, fromSeats int64, to string, toSeats int64) string {
	return seatRef(from, fromSeats) + " → " + seatRef(to, toSeats)
}

// seatRef is a plan reference with its seats, when it has some.
func seatRef(ref string, seats int64) string {
	if seats == 0 {
		return ref
	}
	return fmt.Sprintf("%s × %d", ref, seats)
}

// refundCredit returns an always_invoice credit to the purchase's latest payments, newest
// first; what they cannot take (a payment past the processor's refund window takes nothing)
// stays as credit for the next charges. The starter recorded the refund request
// (ChangeRefundKey) before the update.
func (p *purchase) refundCredit(ctx workflow.Context, c *PlanChange, amount int64) error {
	s := &p.state
	forLife := workflow.GetVersion(ctx, changeRefundsForLife, workflow.DefaultVersion, 1) == 1
	now := p.now(ctx)
	for i := len(s.Payments) - 1; i >= 0 && amount > 0; i-- {
		pay := &s.Payments[i]
		part := min(amount, pay.Amount-pay.Refunded)
		if part <= 0 || (forLife && !pay.PaidAt.IsZero() && now.Sub(pay.PaidAt) > RefundWindow) {
			continue
		}
		out, err := refundPayment(ctx, RefundPaymentInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef,
			CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, SourceTxnRef: pay.TxnRef, ChargeRef: pay.ProcessorRef,
			Period: pay.Period, Amount: part, Currency: s.Plan.Currency,
			IdempotencyKey: fmt.Sprintf("%s/change-%d/refund-%s", s.PurchaseRef, c.Seq, pay.TxnRef),
			Reason:         "plan change credit", Terms: s.termsDigest(), Request: RefundInput{RequestKey: ChangeRefundKey(c.Key)},
			At: now})
		if err != nil {
			return err
		}
		pay.Refunded += part
		s.RefundedTotal += part
		amount -= part
		c.RefundRef = append(c.RefundRef, out.TxnRef)
	}
	s.Credit += amount
	return nil
}

// ChangeRefundKey is the refund request the starter records for an always_invoice change.
func ChangeRefundKey(requestKey string) string { return "change/" + requestKey }

// termsWith is the digest of the purchase's terms on plan with seats (the starter records them
// first).
func (s *State) termsWith(plan domain.Plan, seats int64) string {
	return NewTerms(PurchaseInput{PurchaseRef: s.PurchaseRef, MerchantRef: s.MerchantRef, CustomerRef: s.CustomerRef,
		Plan: plan, Sandbox: s.Sandbox, Quantity: seats}).Digest()
}

// scheduleChange keeps the change for the period end, where applyScheduledChange makes it.
func (p *purchase) scheduleChange(ctx workflow.Context, in ChangePlanInput, q ChangeQuote) error {
	s := &p.state
	np, seats := s.ChangeTarget(in)
	sc := &ScheduledChange{Key: in.RequestKey, Plan: np, Quantity: seatsOn(np, seats), At: q.At, RequestedAt: p.stamp(ctx),
		ProrationBehavior: q.ProrationBehavior}
	s.ScheduledChange = sc
	return p.write(ctx, "schedule_change", s.DisplayStatus(), fmt.Sprintf("%s on %s", sc.names(s), day(q.At)))
}

// applyScheduledChange moves the purchase to the scheduled plan at the period boundary, before
// the renewal charges it. A new cycle length starts counting periods from the boundary.
func (p *purchase) applyScheduledChange(boundary time.Time) {
	s := &p.state
	sc := s.ScheduledChange
	if sc == nil {
		return
	}
	s.ChangeSeq++
	if !sameCycle(s.Plan, sc.Plan) {
		s.Anchor, s.AnchorPeriod = boundary, s.Period
	}
	s.LastChange = &PlanChange{Seq: s.ChangeSeq, Key: sc.Key, FromPlanRef: s.Plan.Ref, ToPlanRef: sc.Plan.Ref, At: boundary,
		FromQuantity: s.Quantity, ToQuantity: sc.Quantity, Effective: EffectivePeriodEnd, ProrationBehavior: sc.ProrationBehavior}
	s.Plan, s.Quantity, s.ScheduledChange = sc.Plan, sc.Quantity, nil
}

// ---- cancel a scheduled change ----

func (p *purchase) validateCancelScheduledChange(ctx workflow.Context, _ CancelScheduledChangeInput) error {
	if p.state.ScheduledChange == nil {
		return refuse(domain.CodeConflict, "", "no plan change is scheduled for purchase %s", p.state.PurchaseRef)
	}
	return nil
}

func (p *purchase) updateCancelScheduledChange(ctx workflow.Context, in CancelScheduledChangeInput) (State, error) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateCancelScheduledChange(ctx, in); err != nil {
			return err
		}
		sc := p.state.ScheduledChange
		p.state.ScheduledChange = nil
		return p.write(ctx, "cancel_scheduled_change", p.state.DisplayStatus(), "kept plan "+seatRef(p.state.Plan.Ref, p.state.Quantity)+", not "+seatRef(sc.Plan.Ref, sc.Quantity))
	})
	p.nudge()
	return p.state, err
}

// ---- histories recorded before changes were made in place ----

func (p *purchase) validateSwitchPlan(in ChangePlanInput) error {
	s := p.state
	if s.SuccessorRef != "" && s.SuccessorRef == in.NewPurchaseRef {
		return nil // a retried change: already done
	}
	if err := p.notLive("change plan"); err != nil {
		return err
	}
	if err := p.chargingRefusal("change plan"); err != nil {
		return err
	}
	return s.newPlanRefusal(in.NewPlan)
}

// switchPlan ended this purchase (expired, plan switched) and the starter started the new
// purchase under NewPurchaseRef: how histories before changePlanInPlace replay.
func (p *purchase) switchPlan(ctx workflow.Context, in ChangePlanInput) (State, error) {
	err := p.locked(ctx, func(ctx workflow.Context) error {
		if err := p.validateSwitchPlan(in); err != nil || p.state.SuccessorRef == in.NewPurchaseRef {
			return err
		}
		p.state.SuccessorRef = in.NewPurchaseRef
		return p.end(ctx, "change_plan", domain.PurchaseExpired, "plan_switched to "+in.NewPlan.Ref)
	})
	p.nudge()
	return p.state, err
}
