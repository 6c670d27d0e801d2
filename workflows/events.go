package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/payments"
)

// Processor events (DESIGN.md "Events and webhooks", inbound). The API records a verified
// webhook event and starts ProcessorEvent for it; the event workflow finds the purchase the event
// is about and signals it (SignalPaymentChanged). The purchase refetches the payment from the
// processor and moves to what it finds (processor_events.go), so events delivered late, twice or
// in any order end in the same state, and the purchase's history tells the whole story of its
// payments.

// EventActivities are the activities of processor events, beside Activities (activities.
// Activities implements both).
type EventActivities interface {
	// ResolveProcessorEvent finds the purchase a payment event is about, or applies a customer
	// event (a card detached, a customer deleted) to Postgres. An event about a payment
	// Tollgate did not make is ignored (Outcome says so); one whose payment is not recorded yet
	// (the charge is still being answered) fails retryably with ErrTypeNotYetRecorded.
	ResolveProcessorEvent(ctx context.Context, in ProcessorEventInput) (ResolvedEvent, error)
	// FinishProcessorEvent records the event's outcome on its row.
	FinishProcessorEvent(ctx context.Context, in FinishEventInput) error
	// LookupPayment refetches one of the purchase's payments from its processor.
	LookupPayment(ctx context.Context, in LookupPaymentInput) (payments.PaymentFacts, error)
	// SettlePayment moves a pending payment transaction to succeeded or failed.
	SettlePayment(ctx context.Context, in SettlePaymentInput) error
	// RecordProcessorRefund records money returned outside Tollgate — a refund made in the
	// processor's dashboard, a lost dispute — as a txn_ refund of the payment. No money moves.
	RecordProcessorRefund(ctx context.Context, in RecordRefundInput) (RecordRefundResult, error)
}

// ErrTypeNotYetRecorded: the event names a payment Tollgate made whose transaction is not
// written yet; retried for a while.
const ErrTypeNotYetRecorded = "PaymentNotYetRecorded"

// ProcessorEventInput is a verified webhook event, reduced to what routes it.
type ProcessorEventInput struct {
	EventID   string
	Processor string // stripe, sandbox
	Type      string
	// PaymentRef is the payment the event is about (pi_… or ch_…), for payment, charge,
	// refund and dispute events.
	PaymentRef string `json:",omitempty"`
	// Ours says the object carries Tollgate's metadata (tollgate_idempotency_key).
	Ours bool `json:",omitempty"`
	// PaymentMethod is the card of payment_method.detached; ProcessorCustomer the customer of
	// customer.deleted.
	PaymentMethod     string `json:",omitempty"`
	ProcessorCustomer string `json:",omitempty"`
}

// ResolvedEvent is the purchase an event is about, or why there is none.
type ResolvedEvent struct {
	PurchaseRef string `json:",omitempty"`
	MerchantRef string `json:",omitempty"`
	Outcome     string
}

type FinishEventInput struct {
	EventID string
	Outcome string
}

// PaymentChangedInput is the signal a purchase gets for a processor event about its payment.
type PaymentChangedInput struct {
	EventID    string
	Type       string
	PaymentRef string
}

type LookupPaymentInput struct {
	MerchantRef string
	PurchaseRef string
	CustomerRef string
	Terms       string
	PaymentRef  string
}

type SettlePaymentInput struct {
	MerchantRef string
	PurchaseRef string
	CustomerRef string
	Terms       string
	TxnRef      string
	Status      string // succeeded or failed
	FailureCode string `json:",omitempty"`
}

type RecordRefundInput struct {
	MerchantRef  string
	PurchaseRef  string
	CustomerRef  string
	ProductRef   string
	Terms        string
	SourceTxnRef string
	Period       int
	Amount       int64
	Currency     string
	Reason       string // refunded_outside_tollgate, dispute_lost
	Key          string // the transaction's idempotency key
	ProcessorRef string // re_… or dp_…
}

type RecordRefundResult struct {
	TxnRef string
}

var (
	actResolveEvent  = activityName(EventActivities.ResolveProcessorEvent)
	actFinishEvent   = activityName(EventActivities.FinishProcessorEvent)
	actLookupPayment = activityName(EventActivities.LookupPayment)
	actSettlePayment = activityName(EventActivities.SettlePayment)
	actRecordRefund  = activityName(EventActivities.RecordProcessorRefund)
)

// resolveOptions retry a payment not recorded yet for up to an hour: a charge is answered in
// seconds, and its round is bounded by ChargeRoundTimeout.
var resolveOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: ChargeRoundTimeout,
	RetryPolicy:            paymentRetry,
}

// ProcessorEvent processes one webhook event: resolve its purchase, signal it, record the
// outcome. It never fails for the event's content: an event it cannot use is recorded as
// ignored, and the processor was answered 2xx long before.
func ProcessorEvent(ctx workflow.Context, in ProcessorEventInput) (ResolvedEvent, error) {
	var res ResolvedEvent
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, resolveOptions), actResolveEvent, in).Get(ctx, &res)
	if err != nil {
		var app *temporal.ApplicationError
		if !errors.As(err, &app) && !temporal.IsTimeoutError(err) {
			return res, err
		}
		res = ResolvedEvent{Outcome: "ignored: " + err.Error()}
	}
	if res.PurchaseRef != "" {
		sig := PaymentChangedInput{EventID: in.EventID, Type: in.Type, PaymentRef: in.PaymentRef}
		err := workflow.SignalExternalWorkflow(ctx, WorkflowID(res.PurchaseRef), "", SignalPaymentChanged, sig).Get(ctx, nil)
		if err != nil { // the purchase's workflow has closed: retention over
			res.Outcome = "ignored: purchase " + res.PurchaseRef + " is no longer running"
		}
	}
	err = workflow.ExecuteLocalActivity(local(ctx), actFinishEvent, FinishEventInput{EventID: in.EventID, Outcome: res.Outcome}).Get(ctx, nil)
	return res, err
}
