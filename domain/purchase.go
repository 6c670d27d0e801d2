package domain

import "time"

// PurchaseStatus is the lifecycle state of a purchase (DESIGN.md state table).
type PurchaseStatus string

const (
	PurchasePending   PurchaseStatus = "pending"
	PurchaseTrialing  PurchaseStatus = "trialing"
	PurchaseActive    PurchaseStatus = "active"
	PurchasePastDue   PurchaseStatus = "past_due"
	PurchaseSuspended PurchaseStatus = "suspended"
	PurchaseCancelled PurchaseStatus = "cancelled"
	PurchaseExpired   PurchaseStatus = "expired"
	PurchaseRefunded  PurchaseStatus = "refunded"
	// PurchasePaused: the merchant paused collection; nothing renews until it resumes. Whether
	// the customer keeps access is the pause's behaviour (Pause).
	PurchasePaused PurchaseStatus = "paused"
	// PurchasePendingCancellation is not a state of its own: it is active with CancelledAt set.
	// It exists as a value for the PurchaseStatus search attribute and for filters.
	PurchasePendingCancellation PurchaseStatus = "pending_cancellation"
)

// HasAccess reports whether a purchase in this state grants access (before grace rules).
func (s PurchaseStatus) HasAccess() bool {
	switch s {
	case PurchaseTrialing, PurchaseActive, PurchasePastDue, PurchasePendingCancellation:
		return true
	}
	return false
}

// Access reports whether a purchase in state s grants access: a paused one as its pause says.
func Access(s PurchaseStatus, pause *Pause) bool {
	if s == PurchasePaused {
		return pause != nil && pause.Behavior == PauseKeepAccess
	}
	return s.HasAccess()
}

// PauseBehavior is what a paused purchase grants while nothing is collected. The names follow
// Stripe's pause_collection behaviours by what the customer gets: keep_access is Stripe's
// mark_uncollectible (the service goes on, the periods are never billed), void is Stripe's void
// (the service stops, the periods are never billed). Stripe's keep_as_draft (bill later) has
// no counterpart: a paused period is never billed.
type PauseBehavior string

const (
	PauseKeepAccess PauseBehavior = "keep_access"
	PauseVoid       PauseBehavior = "void"
)

// Pause is the pause of a paused purchase.
type Pause struct {
	Behavior PauseBehavior `json:"behavior"`
	PausedAt time.Time     `json:"pausedAt"`
	// ResumesAt is when the purchase resumes on its own (anchor kept); nil until asked.
	ResumesAt *time.Time `json:"resumesAt,omitempty"`
}

// Ended reports whether the state is terminal.
func (s PurchaseStatus) Ended() bool {
	switch s {
	case PurchaseCancelled, PurchaseExpired, PurchaseRefunded:
		return true
	}
	return false
}

// RefundWindow is how long after a payment the processor still refunds it: Stripe refunds card
// payments for 180 days, and the sandbox processor does the same. Its clock is the purchase's:
// a sandbox purchase's test clock moves it (Purchase.ClockOffset, Transaction.OccurredAt).
const RefundWindow = 180 * 24 * time.Hour

// Purchase is the Postgres projection of one purchase workflow.
type Purchase struct {
	Ref          string         `json:"reference"`
	MerchantRef  string         `json:"-"`
	CustomerRef  string         `json:"customerRef"`
	ProductRef   string         `json:"productRef"`
	PlanRef      string         `json:"planRef"`
	Status       PurchaseStatus `json:"status"`
	PlanName     string         `json:"planName,omitempty"`
	PlanType     PlanType       `json:"planType,omitempty"`
	Amount       int64          `json:"amount"`
	Currency     string         `json:"currency"`
	BillingCycle BillingCycle   `json:"billingCycle,omitempty"`
	// Quantity is the purchase's seats (1 unless its plan is per seat); a per-seat plan charges
	// Amount × Quantity each period.
	Quantity           int64      `json:"quantity"`
	CancelledAt        *time.Time `json:"cancelledAt,omitempty"`
	CancelReason       string     `json:"cancelReason,omitempty"`
	StartedAt          *time.Time `json:"startedAt,omitempty"`
	CurrentPeriodStart *time.Time `json:"currentPeriodStart,omitempty"`
	CurrentPeriodEnd   *time.Time `json:"currentPeriodEnd,omitempty"`
	NextBillingAt      *time.Time `json:"nextBillingAt,omitempty"`
	TrialEnd           *time.Time `json:"trialEnd,omitempty"`
	EndedAt            *time.Time `json:"endedAt,omitempty"`
	Period             int        `json:"period"`
	PaidTotal          int64      `json:"paidTotal"`
	RefundedTotal      int64      `json:"refundedTotal"`
	CarriedAmount      int64      `json:"carriedAmount"` // below the processor's minimum: waits for the next charge
	Sandbox            bool       `json:"sandbox"`
	// ScheduledChange is a plan change waiting for the period end (a downgrade), cancellable
	// until then.
	ScheduledChange *ScheduledChange `json:"scheduledChange,omitempty"`
	// Disputed: a payment of the purchase is disputed and the dispute is not closed yet.
	Disputed bool `json:"disputed,omitempty"`
	// PaymentProcessing: a payment was accepted but has not settled; it is not counted as paid.
	PaymentProcessing bool `json:"paymentProcessing,omitempty"`
	// PastDueReason is why a past-due (or suspended) purchase's renewal failed: the failed
	// payment's code, e.g. card_declined, or authentication_required when the bank asks the
	// customer to authenticate it (the portal links to the page that does).
	PastDueReason string `json:"pastDueReason,omitempty"`
	// Pause is set while the purchase is paused (status paused).
	Pause     *Pause    `json:"pause,omitempty"`
	Seq       int64     `json:"-"`
	StepAt    time.Time `json:"-"` // the workflow time of the write; orders writes before Seq
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// ClockOffset is how far a sandbox purchase's test clock runs ahead of real time, as the last
	// advance left it: the purchase's clock is now plus it, also once its workflow has closed.
	ClockOffset time.Duration `json:"-"`
}

// ScheduledChange is a plan change a purchase makes at its period end.
type ScheduledChange struct {
	PlanRef      string       `json:"planRef"`
	PlanName     string       `json:"planName,omitempty"`
	Amount       int64        `json:"amount"`
	Currency     string       `json:"currency"`
	BillingCycle BillingCycle `json:"billingCycle,omitempty"`
	// Quantity is the seats the purchase has from EffectiveAt on.
	Quantity    int64     `json:"quantity,omitempty"`
	EffectiveAt time.Time `json:"effectiveAt"`
}

// DisplayStatus folds cancelledAt into the status the way seed 003 names it.
func (p Purchase) DisplayStatus() PurchaseStatus {
	if p.Status == PurchaseActive && p.CancelledAt != nil {
		return PurchasePendingCancellation
	}
	return p.Status
}

// HasAccess reports whether the purchase grants access now, as its status (and pause) say.
func (p Purchase) HasAccess() bool { return Access(p.DisplayStatus(), p.Pause) }

// Transaction is a payment or a refund (txn_).
type Transaction struct {
	Ref            string    `json:"reference"`
	MerchantRef    string    `json:"-"`
	Kind           string    `json:"type"`   // payment or refund
	Status         string    `json:"status"` // succeeded, failed, pending
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	PurchaseRef    string    `json:"purchaseRef,omitempty"`
	CustomerRef    string    `json:"customerRef,omitempty"`
	ProductRef     string    `json:"productRef,omitempty"`
	SourceRef      string    `json:"sourceTransactionRef,omitempty"` // refunds: the payment refunded
	Period         int       `json:"period,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	FailureCode    string    `json:"failureCode,omitempty"`
	FailureMessage string    `json:"failureMessage,omitempty"`
	IdempotencyKey string    `json:"-"`
	Processor      string    `json:"processor,omitempty"`
	ProcessorRef   string    `json:"processorRef,omitempty"`
	RefundedAmount int64     `json:"refundedAmount,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	// OccurredAt is when the money moved on the purchase's clock, which is the processor's (a
	// sandbox purchase's test clock runs ahead of CreatedAt); the refund window counts from it.
	OccurredAt time.Time `json:"-"`
	// PeriodStart and PeriodEnd are the span a payment pays, when its charge said so: its
	// invoice line's period.
	PeriodStart, PeriodEnd *time.Time `json:"-"`
}

const (
	TxnPayment   = "payment"
	TxnRefund    = "refund"
	TxnSucceeded = "succeeded"
	TxnFailed    = "failed"
	TxnPending   = "pending"
)

// PurchaseView is the projection with the two facts clients branch on spelled out: the status
// as seed 003 names it (pending_cancellation is active with cancelledAt set) and access. The
// API answers it, and a purchase event carries it.
type PurchaseView struct {
	Purchase
	DisplayStatus PurchaseStatus `json:"displayStatus"`
	HasAccess     bool           `json:"hasAccess"`
}

// View is p as the API shows it.
func (p Purchase) View() PurchaseView {
	ds := p.DisplayStatus()
	return PurchaseView{Purchase: p, DisplayStatus: ds, HasAccess: p.HasAccess()}
}
