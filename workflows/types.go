package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// PurchaseInput starts a purchase workflow. A continued run gets State instead of starting over.
type PurchaseInput struct {
	PurchaseRef string
	MerchantRef string
	CustomerRef string
	Plan        domain.Plan // the plan as bought; later catalog edits do not reprice a running purchase
	// Sandbox purchases accept the test clock (advance-clock).
	Sandbox bool
	// PreviousPurchaseRef is the purchase this one replaces after a plan switch.
	PreviousPurchaseRef string
	// TimeZone is the customer's IANA time zone; billing dates fall on its calendar (UTC when empty).
	TimeZone string `json:",omitempty"`
	// Quantity is the seats bought (a per-seat plan charges Price × Quantity); 0 is 1.
	Quantity int64 `json:",omitempty"`
	// State is set by continue-as-new: the run resumes from it.
	State *State `json:",omitempty"`
}

// State is everything a purchase remembers; it is carried across continue-as-new and is the
// answer of the `state` query. Times are on the purchase's own clock (workflow.Now plus the
// test-clock offset), truncated to whole seconds so they match Postgres keys exactly.
type State struct {
	PurchaseRef         string
	MerchantRef         string
	CustomerRef         string
	Plan                domain.Plan
	Sandbox             bool
	PreviousPurchaseRef string `json:",omitempty"`
	SuccessorRef        string `json:",omitempty"` // the purchase a plan switch started
	TimeZone            string `json:",omitempty"` // the customer's, as bought; empty is UTC
	// Quantity is the purchase's seats: a per-seat plan charges Plan.Price × Quantity each
	// period. 0 (purchases bought before seats) is 1; seats() reads it.
	Quantity int64 `json:",omitempty"`

	Status       domain.PurchaseStatus
	CancelledAt  *time.Time `json:",omitempty"`
	CancelReason string     `json:",omitempty"`
	StartedAt    time.Time
	TrialEnd     *time.Time `json:",omitempty"`
	EndedAt      *time.Time `json:",omitempty"`
	EndReason    string     `json:",omitempty"`

	// Anchor is where period AnchorPeriod+1 starts (activation, or the trial's end; a plan
	// change to another cycle length restarts it): the end of period n is the anchor plus
	// n−AnchorPeriod cycles (domain.Plan.PeriodBoundary), so clamped months do not drift.
	// Zero for purchases started before it was kept.
	Anchor       time.Time
	AnchorPeriod int `json:",omitempty"`
	// Period is the number of the current period: 0 during a trial, 1 after activation.
	Period      int
	PeriodStart time.Time
	// PeriodEnd is when the current period (or trial, or one-time access) ends; zero for
	// lifetime access.
	PeriodEnd time.Time

	PaidTotal     int64
	RefundedTotal int64
	// Carried is owed but not charged: a charge below the processor's minimum for the currency
	// (money.BelowMinimum) waits for the next one. A purchase that ends never charges it.
	Carried int64 `json:",omitempty"`
	// Payments are those the processor may still refund (RefundWindow); older ones are in
	// Postgres only, so the state stays bounded however long the purchase renews.
	Payments []Payment
	Refunds  []Refund `json:",omitempty"`
	// Disputes are the disputes over Payments, as the processor reported them.
	Disputes []Dispute `json:",omitempty"`
	// DisputeHold withholds access while a dispute is open and the merchant's policy
	// suspends (the default): the purchase shows as suspended, its lifecycle runs on.
	DisputeHold bool     `json:",omitempty"`
	Dunning     *Dunning `json:",omitempty"`
	// Authenticating is the first payment, which the customer's bank wants authenticated (3-D
	// Secure): the purchase stays pending until the customer completes that very payment, on
	// session (the checkout's step, or /pay/<token>), or Authenticating.Until passes
	// (first_authentication.go).
	Authenticating *Authentication `json:",omitempty"`
	// Pause is the pause of a paused purchase (pause.go); nil otherwise.
	Pause *domain.Pause `json:",omitempty"`
	// Charging is the charge in flight, if any (nil between steps, so never carried over).
	Charging *Charging `json:",omitempty"`

	// Plan changes (planchange.go). ChangeSeq counts the changes that reached a charge or took
	// effect: it names the next change's keys (<purchase>/change-<n>/charge). Credit is what
	// downgrades credited and no charge has used yet; renewals take it off first.
	ChangeSeq       int              `json:",omitempty"`
	LastChange      *PlanChange      `json:",omitempty"`
	ScheduledChange *ScheduledChange `json:",omitempty"`
	Credit          int64            `json:",omitempty"`
	// UnitsBilled are the units of the current period a change billed (their free units used up
	// with them); UnitsOwed those a declined change took from the counters, which the renewal
	// bills. Both start again at zero with each period.
	UnitsBilled int64 `json:",omitempty"`
	UnitsOwed   int64 `json:",omitempty"`

	// ClockOffset is how far the test clock has moved this purchase ahead of workflow time.
	ClockOffset time.Duration `json:",omitempty"`
	// Seq numbers every projection write; Postgres ignores a write older than the stored one.
	Seq int64
	// RunPeriods counts the period boundaries played in this run (continue-as-new every N).
	RunPeriods int
	// Runs counts the runs of this purchase (1 + continue-as-new count).
	Runs int
}

// Payment is a succeeded charge of the purchase.
type Payment struct {
	TxnRef       string
	ProcessorRef string
	Period       int
	Amount       int64
	Refunded     int64
	Key          string
	PaidAt       time.Time `json:",omitzero"` // on the purchase's clock; zero before it was kept
	// Processing: the processor accepted the payment but has not settled it. It is not in
	// PaidTotal until a payment-changed signal finds it succeeded.
	Processing bool `json:",omitempty"`
	// Asked is the amount the purchase asked before the tax the charge added (0: the same as
	// Amount): what is asked again if the payment fails after all.
	Asked int64 `json:",omitempty"`
}

// asked is what the payment was asked for, before tax.
func (p Payment) asked() int64 {
	if p.Asked > 0 {
		return p.Asked
	}
	return p.Amount
}

// Refund is a refund made, remembered by the caller's key so a repeat answers the same.
type Refund struct {
	Key       string
	TxnRef    string
	SourceRef string
	Amount    int64
	// ProcessorRef is the processor's id of the refund (re_…; dp_… for a lost dispute), so a
	// webhook about it is known as this refund. Empty for refunds made before it was kept.
	ProcessorRef string `json:",omitempty"`
}

// Dispute is a dispute over one of the purchase's payments.
type Dispute struct {
	ID        string // dp_…
	SourceRef string // the payment's txn_
	Amount    int64
	Status    string // open, won, lost
}

// Dunning is the collection of a failed renewal.
type Dunning struct {
	Period    int       // the period whose charge failed
	Amount    int64     // what it tries to collect
	FailedAt  time.Time // the failed renewal; retries and grace count from it
	RetryDays []int     // the merchant's schedule, days after FailedAt
	GraceDays int
	NextRetry int // index into RetryDays of the next scheduled retry
	Attempts  int // retries made (scheduled and asked for); names the next retry key
	LastError string
	// Authentication is the payment of Period the customer's bank wants authenticated (3-D
	// Secure), kept until a newer one asks again: the customer completes it on the hosted page
	// /pay/<token>, and a payment-changed signal that finds it succeeded pays the period with it
	// (processor_events.go), never with a second charge.
	Authentication *Authentication `json:",omitempty"`
}

// Authentication is a payment waiting for the customer to authenticate it.
type Authentication struct {
	TxnRef       string // its txn_, failed with authentication_required until it succeeds
	ProcessorRef string // pi_… / ch_sb_…
	// Amount and Until are kept for the first payment (State.Authenticating): what it pays,
	// and when the purchase stops waiting for it.
	Amount int64     `json:",omitempty"`
	Until  time.Time `json:",omitzero"`
}

// HasAccess reports whether the customer may use the product now (DESIGN.md state table).
func (s State) HasAccess() bool { return domain.Access(s.DisplayStatus(), s.Pause) && !s.DisputeHold }

// DisplayStatus folds CancelledAt into the status the way seed 003 names it; a purchase held
// by a dispute shows as suspended.
func (s State) DisplayStatus() domain.PurchaseStatus {
	if s.DisputeHold && s.Status.HasAccess() {
		return domain.PurchaseSuspended
	}
	if s.Status == domain.PurchaseActive && s.CancelledAt != nil {
		return domain.PurchasePendingCancellation
	}
	return s.Status
}

// NextBillingAt is when money will next be asked for, or nil.
func (s State) NextBillingAt() *time.Time {
	switch s.Status {
	case domain.PurchaseTrialing:
		if s.CancelledAt == nil {
			return s.TrialEnd
		}
	case domain.PurchaseActive:
		if s.CancelledAt == nil && s.Plan.Recurring() && !s.PeriodEnd.IsZero() {
			t := s.PeriodEnd
			return &t
		}
	case domain.PurchasePastDue, domain.PurchaseSuspended:
		if d := s.Dunning; d != nil && d.NextRetry < len(d.RetryDays) {
			t := d.retryAt(d.NextRetry)
			return &t
		}
	}
	return nil
}

func (d Dunning) retryAt(i int) time.Time { return d.FailedAt.AddDate(0, 0, d.RetryDays[i]) }
func (d Dunning) graceEnd() time.Time     { return d.FailedAt.AddDate(0, 0, d.GraceDays) }

// Message inputs and results. Every update answers the State after it.

type CancelRenewalInput struct {
	Reason string
}

type ReactivateInput struct{}

type RefundInput struct {
	// RequestKey is the caller's idempotency key: the refund's key at the processor and in
	// Postgres. The same key again answers the first refund.
	RequestKey string
	// TransactionRef is the payment to refund; empty means the current period's payment.
	TransactionRef string
	// Amount in minor units; 0 means whatever of the payment is not refunded yet.
	Amount int64
	Reason string
	// KeepAccess keeps a fully refunded current period running (a goodwill refund).
	KeepAccess bool
}

// RefundKey is the idempotency key of a refund request at the processor and in Postgres. A
// request key that would make it longer than processors take (255 characters) is replaced by
// its digest.
func RefundKey(purchaseRef, requestKey string) string {
	key := purchaseRef + "/refund/" + requestKey
	if len(key) > 255 {
		sum := sha256.Sum256([]byte(requestKey))
		key = purchaseRef + "/refund/sha256-" + hex.EncodeToString(sum[:])
	}
	return key
}

type RefundResult struct {
	TransactionRef string
	SourceRef      string
	Amount         int64
	// State is the purchase's state after the refund when its workflow made it; zero when the
	// purchase's workflow had closed and a refund workflow made it (refund.go).
	State State
}

// ChangePlanInput asks for a plan change of the purchase (planchange.go), a change of its seats
// (Quantity), or both.
type ChangePlanInput struct {
	// NewPlan is loaded by the starter from the catalog; the purchase's own plan as bought for a
	// change of seats alone.
	NewPlan domain.Plan
	// Quantity is the seats after the change; 0 keeps the purchase's on a per-seat plan (1 on
	// any other).
	Quantity int64 `json:",omitempty"`
	// NewPurchaseRef is set only in histories recorded before changes were made in place: the
	// purchase ended and the starter started NewPurchaseRef on the new plan.
	NewPurchaseRef string `json:",omitempty"`
	// RequestKey names the request: the same key again answers the same change.
	RequestKey string `json:",omitempty"`
	// ProrationBehavior: create_prorations (default), none, always_invoice.
	ProrationBehavior string `json:",omitempty"`
	// Effective: now or period_end; empty picks now for an upgrade, period_end for a downgrade.
	Effective string `json:",omitempty"`
	// ProrationDate prices the change at this instant instead of now (a preview's, so both
	// agree to the minor unit); it must lie in the current period, not after now.
	ProrationDate *time.Time `json:",omitempty"`
}

type RetryPaymentInput struct{}

type AdvanceClockInput struct {
	To time.Time
}

// PurchaseResult is what a finished purchase workflow returns.
type PurchaseResult struct {
	State State
}
