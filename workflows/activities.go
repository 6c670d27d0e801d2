package workflows

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// Activities is what the purchase workflow asks of the world. activities.Activities implements
// it (asserted at compile time there), so this package names its activities without importing
// anything that does I/O, and a renamed method is a compile error on both sides.
type Activities interface {
	// Project writes the purchase projection (ignored when older than the stored one) and,
	// when given, the audit row of the step, in one Postgres transaction.
	Project(ctx context.Context, in ProjectInput) error
	// Charge takes a payment with the customer's default card under a business-data key and
	// records a txn_ row, failed charges included. A decline is a non-retryable
	// *temporal.ApplicationError of one of the ErrType… types, with ChargeFailure details.
	Charge(ctx context.Context, in ChargeInput) (ChargeResult, error)
	// PaymentMethod reads the customer's default payment method: the card a charge is bound to
	// for all its attempts, so a card changed meanwhile never meets the charge's key.
	PaymentMethod(ctx context.Context, in PaymentMethodInput) (PaymentMethodResult, error)
	// RefundPayment returns money of one of the purchase's payments and records a txn_ row.
	RefundPayment(ctx context.Context, in RefundPaymentInput) (RefundPaymentResult, error)
	// UsageForPeriod bills the usage of the period that ends: the units its counters (and those
	// of earlier periods since in.Since) hold that no earlier bill took, marked billed at once;
	// asked again for the same period it answers the same units.
	UsageForPeriod(ctx context.Context, in UsageInput) (UsageResult, error)
	// DunningPolicy reads the merchant's retry schedule and grace period.
	DunningPolicy(ctx context.Context, in DunningPolicyInput) (DunningPolicy, error)
}

type ProjectInput struct {
	Purchase domain.Purchase
	// MerchantRef, Seq and StepAt travel beside Purchase because domain.Purchase keeps them out
	// of JSON. StepAt is the workflow time of the step (not the test clock): Postgres orders
	// writes by it, then by Seq, so the steps of a reset run (numbered again from the reset
	// point) still apply.
	MerchantRef string
	Seq         int64
	StepAt      time.Time   `json:",omitzero"`
	Audit       *AuditInput `json:",omitempty"`
	// Terms is the digest of the purchase's terms (terms.go): a purchase the API did not record
	// is never projected, so it grants no access either.
	Terms string
}

type AuditInput struct {
	Action     string
	FromStatus string
	ToStatus   string
	Actor      string
	Detail     string `json:",omitempty"`
}

type ChargeInput struct {
	MerchantRef    string
	PurchaseRef    string
	CustomerRef    string
	ProductRef     string
	Period         int
	Amount         int64
	Currency       string
	IdempotencyKey string
	Description    string
	// Terms is the digest of the purchase's terms (terms.go); the activity refuses a charge
	// whose terms the starter never recorded.
	Terms string
	// PaymentMethod is the card chosen once for this charge; empty in inputs recorded before
	// the choice, which charge the customer's default.
	PaymentMethod string `json:",omitempty"`
	// LookUpFirst asks the activity to look the charge up at the processor before charging:
	// an earlier round may have charged without an answer.
	LookUpFirst bool `json:",omitempty"`
	// At is the purchase's clock when the charge was asked (a sandbox test clock runs ahead): the
	// payment's time at the processor and in Postgres, from which its refund window counts.
	At time.Time `json:",omitzero"`
	// PeriodStart and PeriodEnd are the span the charge pays, when the workflow knows it (the
	// invoice line's period); nil otherwise, and PeriodEnd nil for lifetime access.
	PeriodStart *time.Time `json:",omitempty"`
	PeriodEnd   *time.Time `json:",omitempty"`
}

type PaymentMethodInput struct {
	MerchantRef string
	CustomerRef string
}

type PaymentMethodResult struct {
	PaymentMethod string // empty: the customer has none
}

type ChargeResult struct {
	TxnRef       string
	ProcessorRef string
	// Processing: accepted by the processor, not settled (its transaction is pending). The
	// purchase runs on it, and counts it as paid when a webhook reports it succeeded.
	Processing bool `json:",omitempty"`
	// Amount is what was charged: the amount asked with the exclusive tax of the customer's
	// country added (the Charge activity computes it, once per key). 0 in results recorded
	// before taxes, which charged the amount asked.
	Amount int64 `json:",omitempty"`
}

// charged is what a charge of asked took.
func (r ChargeResult) charged(asked int64) int64 {
	if r.Amount > 0 {
		return r.Amount
	}
	return asked
}

// ChargeFailure details a declined charge (the ApplicationError's details).
type ChargeFailure struct {
	TxnRef  string
	Code    string
	Message string
	// ProcessorRef is the declined payment's id at the processor: for authentication_required,
	// the payment the customer completes on the hosted page.
	ProcessorRef string `json:",omitempty"`
	// Amount is the declined payment's amount, tax included (0 in failures recorded before taxes).
	Amount int64 `json:",omitempty"`
}

// Error types of non-retryable activity failures. activities maps processor and domain errors
// to these in one place; the workflow reads them.
const (
	ErrTypeCardDeclined      = "CardDeclined"
	ErrTypeInsufficientFunds = "InsufficientFunds"
	ErrTypePaymentDeclined   = "PaymentDeclined" // any other decline code
	// ErrTypeAuthenticationRequired: the bank wants the customer to authenticate the payment
	// (3-D Secure). Final for the charge; the payment stays open for the customer to complete.
	ErrTypeAuthenticationRequired = "AuthenticationRequired"
	ErrTypeInvalidRequest         = "InvalidPaymentRequest"
	ErrTypePaymentMethodMissing   = "PaymentMethodMissing"
	ErrTypeIdempotencyMismatch    = "IdempotencyKeyMismatch"
	ErrTypeNotFound               = "NotFound"
	// ErrTypeNotRecorded refuses a charge or refund the API never asked for (terms.go).
	ErrTypeNotRecorded = "NotRecordedByAPI"
	// ErrTypeRefundWindowClosed: the processor no longer refunds the payment (domain.RefundWindow).
	ErrTypeRefundWindowClosed = string(domain.CodeRefundWindowClosed)
	// Retryable: the charge is not settled. A fault is ours or the processor's (a rejected
	// key, a malformed request); unknown means money may have moved (timeout, 5xx).
	ErrTypeProcessorFault = "ProcessorFault"
	ErrTypeChargeUnknown  = "ChargeOutcomeUnknown"
)

// RefundPaymentInput refunds one payment of a purchase. Postgres has the last word on the
// payment: the activity reads it there (its processor id, currency and what is left of it), so
// a payment the workflow's state no longer holds refunds the same way.
type RefundPaymentInput struct {
	MerchantRef    string
	PurchaseRef    string
	CustomerRef    string
	ProductRef     string
	SourceTxnRef   string
	ChargeRef      string // the processor's id of the payment, when the state holds it
	Period         int
	Amount         int64 // 0: what is left of the payment
	Currency       string
	IdempotencyKey string
	Reason         string
	// Terms and Request let the activity check the refund against what the starter recorded.
	Terms   string
	Request RefundInput
	// At is now on the purchase's clock, the processor's clock for the refund window.
	At time.Time `json:",omitzero"`
	// OnClosedPurchase: the purchase's workflow has closed, so the activity itself adds the
	// refund to the purchase's refunded total and audit log (a running workflow projects it).
	OnClosedPurchase bool `json:",omitempty"`
}

type RefundPaymentResult struct {
	TxnRef       string
	ProcessorRef string
	Amount       int64 // what was refunded
	// Replayed: the refund was made before under this key; nothing moved now.
	Replayed bool `json:",omitempty"`
}

type UsageInput struct {
	MerchantRef string
	CustomerRef string
	ProductRef  string
	Meter       string
	PeriodStart time.Time
	// Since is the start of the purchase's first paid period: usage before it (a trial, another
	// purchase) is not this purchase's to bill.
	Since time.Time `json:",omitempty"`
	// Key names a bill inside the period (a plan change's); empty for the period's renewal.
	Key string `json:",omitempty"`
}

type UsageResult struct {
	Units int64
}

type DunningPolicyInput struct {
	MerchantRef string
}

type DunningPolicy struct {
	RetryDays []int
	GraceDays int
	// DisputeAccess is the merchant's dispute policy: "keep" keeps access while a dispute is
	// open; anything else ("suspend", or empty) suspends it.
	DisputeAccess string `json:",omitempty"`
}

// activityName is the registered name of an Activities method: the method name, as the SDK
// registers a struct's methods.
func activityName(method any) string {
	full := runtime.FuncForPC(reflect.ValueOf(method).Pointer()).Name()
	return full[strings.LastIndex(full, ".")+1:]
}

var (
	actProject       = activityName(Activities.Project)
	actCharge        = activityName(Activities.Charge)
	actRefundPayment = activityName(Activities.RefundPayment)
	actPaymentMethod = activityName(Activities.PaymentMethod)
	actUsage         = activityName(Activities.UsageForPeriod)
	actDunning       = activityName(Activities.DunningPolicy)
)

// Postgres reads and writes run as local activities: inside the workflow task, recorded as one
// marker event, where an activity would cost an activity task and another workflow task on the
// server. They retry until they succeed: a projection or audit row is never dropped. The SDK
// bounds a local activity's retries by its schedule-to-close timeout, which defaults to its
// start-to-close one: left at that, a Postgres outage of ten seconds failed the whole purchase
// workflow. A year of retries (at most a minute apart) outlasts any outage.
var dbOptions = workflow.LocalActivityOptions{
	ScheduleToCloseTimeout: 366 * 24 * time.Hour,
	StartToCloseTimeout:    10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
	},
}

// paymentRetry is the back-off of the activities about payments (charges, refunds, their lookups
// and webhook events): from a second, doubling, to five minutes between attempts.
var paymentRetry = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}

// Money movement runs as regular activities, visible in the history. Refunds (and charges of
// histories recorded before charge rounds, see charging.go) retry through the server without
// limit: the idempotency key makes every attempt the same, and declines are non-retryable
// errors that end the retries at once. The heartbeat timeout notices a dead worker long before
// the start-to-close timeout does.
var paymentOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	HeartbeatTimeout:    5 * time.Second,
	RetryPolicy:         paymentRetry,
}

func local(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, dbOptions)
}

func project(ctx workflow.Context, in ProjectInput) error {
	return workflow.ExecuteLocalActivity(local(ctx), actProject, in).Get(ctx, nil)
}

func usageForPeriod(ctx workflow.Context, in UsageInput) (int64, error) {
	var out UsageResult
	err := workflow.ExecuteLocalActivity(local(ctx), actUsage, in).Get(ctx, &out)
	return out.Units, err
}

func dunningPolicy(ctx workflow.Context, merchant string) (DunningPolicy, error) {
	var out DunningPolicy
	err := workflow.ExecuteLocalActivity(local(ctx), actDunning, DunningPolicyInput{MerchantRef: merchant}).Get(ctx, &out)
	return out, err
}

// charge is how histories recorded before charge rounds charge (charging.go): one activity
// retried without limit, every non-retryable error a decline.
func charge(ctx workflow.Context, in ChargeInput) (ChargeResult, *ChargeFailure, error) {
	return runCharge(ctx, paymentOptions, in, func(string) bool { return true })
}

func refundPayment(ctx workflow.Context, in RefundPaymentInput) (RefundPaymentResult, error) {
	var out RefundPaymentResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, paymentOptions), actRefundPayment, in).Get(ctx, &out)
	return out, err
}
