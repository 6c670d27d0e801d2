package domain

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Event types: every state change a merchant could act on (DESIGN.md "Events and webhooks").
// An event is written in the same Postgres transaction as its change (an outbox).
const (
	EventCustomerCreated = "customer.created"
	EventCustomerUpdated = "customer.updated"
	EventCustomerDeleted = "customer.deleted"

	EventPurchaseActivated       = "purchase.activated"
	EventPurchaseTrialStarted    = "purchase.trial_started"
	EventPurchaseRenewed         = "purchase.renewed"
	EventPurchaseCancelScheduled = "purchase.cancel_scheduled"
	EventPurchaseReactivated     = "purchase.reactivated"
	EventPurchasePastDue         = "purchase.past_due"
	EventPurchaseSuspended       = "purchase.suspended"
	EventPurchaseRecovered       = "purchase.recovered"
	EventPurchaseCancelled       = "purchase.cancelled"
	EventPurchaseExpired         = "purchase.expired"
	EventPurchaseRefunded        = "purchase.refunded"
	EventPurchasePlanChanged     = "purchase.plan_changed"
	EventPurchasePaused          = "purchase.paused"
	EventPurchaseResumed         = "purchase.resumed"

	EventPaymentSucceeded = "payment.succeeded"
	EventPaymentFailed    = "payment.failed"
	// EventPaymentRequiresAction: the bank wants the customer to authenticate the payment (3-D
	// Secure); the object carries the payUrl of the page that completes it.
	EventPaymentRequiresAction = "payment.requires_action"
	EventRefundSucceeded       = "refund.succeeded"
	EventRefundFailed          = "refund.failed"

	EventCheckoutCompleted = "checkout.completed"

	EventUsageLimitReached     = "usage.limit_reached"
	EventUsageThresholdReached = "usage.threshold_reached"

	EventWebhookEndpointDisabled = "webhook_endpoint.disabled"

	EventInvoiceCreated    = "invoice.created"
	EventInvoicePaid       = "invoice.paid"
	EventInvoiceVoided     = "invoice.voided"
	EventCreditNoteCreated = "credit_note.created"
)

// EventTypes lists every event type, for validation of an endpoint's enabledEvents.
var EventTypes = []string{EventCustomerCreated, EventCustomerUpdated, EventCustomerDeleted,
	EventPurchaseActivated, EventPurchaseTrialStarted, EventPurchaseRenewed, EventPurchaseCancelScheduled,
	EventPurchaseReactivated, EventPurchasePastDue, EventPurchaseSuspended, EventPurchaseRecovered,
	EventPurchaseCancelled, EventPurchaseExpired, EventPurchaseRefunded, EventPurchasePlanChanged,
	EventPurchasePaused, EventPurchaseResumed,
	EventPaymentSucceeded, EventPaymentFailed, EventPaymentRequiresAction, EventRefundSucceeded, EventRefundFailed,
	EventCheckoutCompleted, EventUsageLimitReached, EventUsageThresholdReached, EventWebhookEndpointDisabled,
	EventInvoiceCreated, EventInvoicePaid, EventInvoiceVoided, EventCreditNoteCreated}

// IsEventType reports whether t is a type Tollgate emits.
func IsEventType(t string) bool { return slices.Contains(EventTypes, t) }

// Event is one state change as a merchant sees it: the object as it is after the change.
type Event struct {
	Ref         string          `json:"reference"` // evt_
	MerchantRef string          `json:"-"`
	Type        string          `json:"type"`
	Mode        string          `json:"mode"`
	ObjectType  string          `json:"objectType"` // customer, purchase, transaction, checkout_session, usage, webhook_endpoint, invoice, credit_note
	ObjectRef   string          `json:"objectRef"`
	Object      json.RawMessage `json:"object"`
	CreatedAt   time.Time       `json:"createdAt"`
}

// PurchaseEventType is the event a purchase workflow step reports, from its audit action and
// the display status before and after; "" when the step is nothing a merchant acts on (a
// failed retry that leaves the purchase past due, a note). An end (cancelled, expired,
// refunded) is named by the status it reaches, whatever step reached it.
func PurchaseEventType(action string, from, to PurchaseStatus) string {
	if from != to {
		switch to {
		case PurchaseCancelled:
			return EventPurchaseCancelled
		case PurchaseExpired:
			return EventPurchaseExpired
		case PurchaseRefunded:
			return EventPurchaseRefunded
		case PurchasePastDue:
			return EventPurchasePastDue
		case PurchaseSuspended:
			return EventPurchaseSuspended
		case PurchaseTrialing:
			return EventPurchaseTrialStarted
		}
	}
	switch action {
	case "activate", "end_trial":
		if to == PurchaseActive {
			return EventPurchaseActivated
		}
	case "renew":
		return EventPurchaseRenewed
	case "cancel_renewal":
		return EventPurchaseCancelScheduled
	case "reactivate":
		return EventPurchaseReactivated
	case "recover":
		return EventPurchaseRecovered
	case "change_plan":
		return EventPurchasePlanChanged
	case "pause":
		return EventPurchasePaused
	case "resume":
		return EventPurchaseResumed
	}
	return ""
}

type modeKey struct{}

// WithMode carries the mode of the API key acting, for the events of objects that have no mode
// of their own (customers).
func WithMode(ctx context.Context, mode string) context.Context {
	return context.WithValue(ctx, modeKey{}, mode)
}

// ModeFrom is the acting key's mode; sandbox when none was set.
func ModeFrom(ctx context.Context) string {
	if m, _ := ctx.Value(modeKey{}).(string); m == ModeLive {
		return ModeLive
	}
	return ModeSandbox
}

// WebhookEndpoint is a URL of the merchant's that receives the events of one mode (we_).
// Secret is shown only when it is made (creation, rotation).
type WebhookEndpoint struct {
	Ref           string     `json:"reference"`
	MerchantRef   string     `json:"-"`
	Mode          string     `json:"mode"`
	URL           string     `json:"url"`
	EnabledEvents []string   `json:"enabledEvents"` // ["*"]: every type
	Description   string     `json:"description"`
	Enabled       bool       `json:"enabled"`
	Secret        string     `json:"secret,omitempty"`
	DisabledAt    *time.Time `json:"disabledAt,omitempty"` // disabled by Tollgate after failing for days
	FailingSince  *time.Time `json:"failingSince,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// Wants reports whether the endpoint receives events of type typ.
func (e WebhookEndpoint) Wants(typ string) bool {
	return slices.Contains(e.EnabledEvents, "*") || slices.Contains(e.EnabledEvents, typ)
}
