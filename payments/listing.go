package payments

import (
	"context"
	"time"
)

// PaymentLister lists the payments a processor holds that carry Tollgate's metadata
// (tollgate_idempotency_key), with their refunds, for reconciliation against the ledger.
// Payments Tollgate did not make are left out; the refunds of Tollgate's payments are all
// there, made by Tollgate (RefundFacts.Key set) or elsewhere (the dashboard).
type PaymentLister interface {
	ListPayments(ctx context.Context, in ListPaymentsInput) (PaymentPage, error)
}

// ListPaymentsInput asks for one page of payments created at or after Since.
type ListPaymentsInput struct {
	Since  time.Time
	Cursor string // "" for the first page, else the Next of the page before
	Limit  int    // payments read per page (ours or not); zero or above MaxListLimit: MaxListLimit
}

// MaxListLimit is the largest page: Stripe's own limit of a list request.
const MaxListLimit = 100

// ListLimit is in.Limit within 1..MaxListLimit.
func (in ListPaymentsInput) ListLimit() int {
	if in.Limit <= 0 || in.Limit > MaxListLimit {
		return MaxListLimit
	}
	return in.Limit
}

// PaymentPage is one page of ListPayments.
type PaymentPage struct {
	Payments []ListedPayment
	Read     int    // payments read, Tollgate's or not
	Next     string // the cursor of the next page; "" after the last
}

// ListedPayment is a payment that carries Tollgate's metadata, as the processor holds it now.
type ListedPayment struct {
	PaymentFacts
	Created time.Time
	// PurchaseRef and Period come from the charge's metadata (purchaseRef, period); the
	// purchase is also the idempotency key's first segment.
	PurchaseRef string `json:",omitempty"`
	Period      int    `json:",omitempty"`
}

// MetadataKey is the metadata entry that carries Tollgate's idempotency key on every payment
// and refund it makes at a processor: what tells Tollgate's objects from the rest.
const MetadataKey = "tollgate_idempotency_key"
