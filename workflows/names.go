package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// TaskQueue is where purchase workflows and their activities run.
const TaskQueue = "tollgate-purchases"

// PurchaseWorkflow is the registered name of the purchase workflow.
const PurchaseWorkflow = "purchase"

// PaymentRefundWorkflow is the registered name of the refund workflow (refund.go), which
// refunds a payment of a purchase whose own workflow has closed.
const PaymentRefundWorkflow = "payment-refund"

// Signals: fire-and-forget, so an operator can act from the Temporal UI or any Temporal client.
const (
	SignalCancelRenewal     = "cancel-renewal"
	SignalReactivateRenewal = "reactivate-renewal"
)

// SignalPaymentChanged tells a purchase that the processor reports a change to one of its
// payments (a webhook event): the purchase refetches the payment and acts on what it finds.
const SignalPaymentChanged = "payment-changed"

// Updates: the same actions and more, for callers that need the refusal (the API, MCP, CLI).
const (
	UpdateCancelRenewal     = "cancel-renewal"
	UpdateReactivateRenewal = "reactivate-renewal"
	UpdateRefund            = "refund"
	UpdateChangePlan        = "change-plan"
	// UpdateCancelScheduledChange drops the plan change scheduled for the period end.
	UpdateCancelScheduledChange = "cancel-scheduled-change"
	UpdateRetryPayment          = "retry-payment"
	// UpdatePause and UpdateResume pause and resume collection (pause.go).
	UpdatePause        = "pause"
	UpdateResume       = "resume"
	UpdateAdvanceClock = "advance-clock"
	// UpdateActivation waits for the activation to finish and answers the state: sent with the
	// start (update-with-start), it makes activation synchronous for the caller.
	UpdateActivation = "activation"
)

// ProcessorEventWorkflow is the registered name of the short workflow that processes one
// processor webhook event (events.go).
const ProcessorEventWorkflow = "processor-event"

// QueryState answers the full purchase State.
const QueryState = "state"

// Custom search attributes, registered on the namespace by devenv and testenv. The Temporal UI
// filters purchases on them, e.g. `PurchaseStatus = "past_due"` or `CustomerRef = "cus_…"`.
var (
	SACustomerRef    = temporal.NewSearchAttributeKeyKeyword("CustomerRef")
	SAProductRef     = temporal.NewSearchAttributeKeyKeyword("ProductRef")
	SAPlanRef        = temporal.NewSearchAttributeKeyKeyword("PlanRef")
	SAMerchantRef    = temporal.NewSearchAttributeKeyKeyword("MerchantRef")
	SAPurchaseStatus = temporal.NewSearchAttributeKeyKeyword("PurchaseStatus")
	SANextBillingAt  = temporal.NewSearchAttributeKeyTime("NextBillingAt")
)

// WorkflowID is the one workflow ID of a purchase: a retried start finds the running one.
func WorkflowID(purchaseRef string) string { return "purchase/" + purchaseRef }

// EventWorkflowID is the one workflow ID of a processor event: a redelivered event finds the
// workflow that processes (or processed) it. Stripe's evt_… ids are unique per account.
func EventWorkflowID(processor, eventID string) string { return processor + "-event-" + eventID }

// RefundWorkflowID is the workflow ID of one refund request of a purchase whose workflow has
// closed: a retried request finds the same workflow, running or done.
func RefundWorkflowID(purchaseRef, requestKey string) string {
	return refundWorkflowPrefix(purchaseRef) + requestKey
}

// IsRefundWorkflowOf reports whether id is a refund workflow of the purchase.
func IsRefundWorkflowOf(id, purchaseRef string) bool {
	return strings.HasPrefix(id, refundWorkflowPrefix(purchaseRef))
}

func refundWorkflowPrefix(purchaseRef string) string { return "refund/" + purchaseRef + "/" }

// ReconcileWorkflow is the registered name of a reconciliation run (reconcile.go).
const ReconcileWorkflow = "reconcile"

// ReconcileScheduleID is the Temporal schedule that starts a reconciliation run daily (or as
// configured); the worker creates or updates it at start.
const ReconcileScheduleID = "tollgate-reconcile"

// QueryReconcileProgress answers a running reconciliation's ReconcileReport so far.
const QueryReconcileProgress = "progress"

// ReconcileWorkflowID is the workflow ID of an on-demand run started at a time; scheduled runs
// are named by the schedule (ReconcileScheduleID plus the time).
func ReconcileWorkflowID(at time.Time) string {
	return "reconcile/" + at.UTC().Format("20060102T150405.000Z")
}
