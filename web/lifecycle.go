package web

import (
	"context"
	"errors"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
)

// Lifecycle is what the pages need from the purchase workflows. It is an interface of its own,
// listing only these calls, so the pages build and test without Temporal; package starter
// satisfies it through FromStarter.
type Lifecycle interface {
	// Start starts the purchase workflow of in.PurchaseRef and answers its state once the
	// first payment has an outcome. Starting the same reference again starts no second
	// workflow (conflict policy use-existing): it answers the running one.
	Start(ctx context.Context, in StartInput) (PurchaseState, error)
	// State is the workflow's own view of the purchase (its `state` query).
	State(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error)
	// CancelRenewal, Reactivate and RetryPayment are the workflow's updates: a refusal comes
	// back as an error whose message is for people (a *domain.Error from the validator).
	CancelRenewal(ctx context.Context, merchantRef, purchaseRef, reason string) (PurchaseState, error)
	Reactivate(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error)
	RetryPayment(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error)
	// ChangePlan changes a live purchase to plan now, prorated (the difference is charged at
	// once; a decline is PAYMENT_REQUIRED and changes nothing). requestKey names the request:
	// the same key again answers the same change. It answers the purchase's state.
	ChangePlan(ctx context.Context, merchantRef, purchaseRef string, plan domain.Plan, requestKey string) (PurchaseState, error)
	// PreviewChange answers what a change to planRef would settle now and at the next renewal,
	// changing nothing: an upgrade now, a downgrade at the period end, as the portal offers them.
	PreviewChange(ctx context.Context, merchantRef, purchaseRef, planRef string) (ChangePreview, error)
	// ConfirmChange makes the change a preview showed, priced at the preview's prorationDate
	// (nil for a change at the period end) so it settles exactly the preview's lines.
	ConfirmChange(ctx context.Context, merchantRef, purchaseRef, planRef string, prorationDate *time.Time) (PurchaseState, error)
	// CancelScheduledChange drops the change waiting for the period end.
	CancelScheduledChange(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error)
}

// ChangePreview is what a plan change settles: its lines now (negative amounts are credits)
// and the first renewal after it.
type ChangePreview struct {
	Effective     string // now or period_end
	EffectiveAt   time.Time
	ProrationDate *time.Time // the instant the lines are priced at; nil at the period end
	Currency      string
	Lines         []money.Line
	Total         int64 // > 0 charged now, < 0 credited
	Credit        int64 // kept on the purchase for its next charges after the change
	NextRenewalAt time.Time
	NextRenewal   int64
}

// StartInput is a purchase the checkout has paid for.
type StartInput struct {
	PurchaseRef string
	MerchantRef string
	CustomerRef string
	ProductRef  string
	Plan        domain.Plan
	// Quantity is the seats the session buys (a per-seat plan).
	Quantity int64
	// Sandbox is the mode of the checkout session (of the key that made it): a sandbox
	// purchase's money moves only through the sandbox processor.
	Sandbox bool
}

// PurchaseState is the part of the workflow's state the pages read.
type PurchaseState struct {
	Status domain.PurchaseStatus // lifecycle state
	// EndReason says why an ended purchase ended, e.g. "first_payment_failed: card_declined".
	EndReason string
	// LastError is the last failed charge's code while dunning, e.g. "card_declined".
	LastError string
	// Authenticating: the first payment waits for the customer to authenticate it (3-D Secure);
	// the purchase is pending until they do, or the wait ends.
	Authenticating bool
}

// noLifecycle answers every call with an error, so a server wired without the workflows shows
// "something went wrong" pages instead of crashing.
type noLifecycle struct{}

var errNoLifecycle = errors.New("web: no Lifecycle configured")

func (noLifecycle) Start(context.Context, StartInput) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) State(context.Context, string, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) CancelRenewal(context.Context, string, string, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) Reactivate(context.Context, string, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) RetryPayment(context.Context, string, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) PreviewChange(context.Context, string, string, string) (ChangePreview, error) {
	return ChangePreview{}, errNoLifecycle
}
func (noLifecycle) ConfirmChange(context.Context, string, string, string, *time.Time) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) CancelScheduledChange(context.Context, string, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
func (noLifecycle) ChangePlan(context.Context, string, string, domain.Plan, string) (PurchaseState, error) {
	return PurchaseState{}, errNoLifecycle
}
