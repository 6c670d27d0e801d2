package stripe

import (
	"context"
	"strconv"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

// metadataKey marks Tollgate's PaymentIntents and refunds.
const metadataKey = payments.MetadataKey

var _ payments.PaymentLister = (*Processor)(nil)

// ListPayments reads one page of PaymentIntents created at or after in.Since, newest first
// (the list API: the search API lags by up to a minute), keeps those that carry Tollgate's key
// and lists each one's refunds. The cursor is the last PaymentIntent read (starting_after).
func (p *Processor) ListPayments(ctx context.Context, in payments.ListPaymentsInput) (payments.PaymentPage, error) {
	params := &stripego.PaymentIntentListParams{CreatedRange: &stripego.RangeQueryParams{GreaterThanOrEqual: in.Since.Unix()}}
	params.Context = ctx
	params.Limit = stripego.Int64(int64(in.ListLimit()))
	params.Single = true // one page per call: the caller pages, so a long listing is resumable
	if in.Cursor != "" {
		params.StartingAfter = stripego.String(in.Cursor)
	}
	var page payments.PaymentPage
	it := p.api.PaymentIntents.List(params)
	last := ""
	for it.Next() {
		pi := it.PaymentIntent()
		page.Read++
		last = pi.ID
		if pi.Metadata[metadataKey] == "" {
			continue
		}
		listed := listedPayment(pi)
		if listed.Status == payments.PaymentSucceeded {
			var err error
			if listed.Refunds, err = p.refundsOf(ctx, pi.ID); err != nil {
				return payments.PaymentPage{}, err
			}
		}
		page.Payments = append(page.Payments, listed)
	}
	if err := it.Err(); err != nil {
		return payments.PaymentPage{}, mapError("list payments", err)
	}
	if it.Meta() != nil && it.Meta().HasMore && last != "" {
		page.Next = last
	}
	return page, nil
}

// listedPayment reads a PaymentIntent of Tollgate's as a ListedPayment, without its refunds.
func listedPayment(pi *stripego.PaymentIntent) payments.ListedPayment {
	period, _ := strconv.Atoi(pi.Metadata["period"])
	return payments.ListedPayment{PaymentFacts: paymentFacts(pi), Created: time.Unix(pi.Created, 0).UTC(),
		PurchaseRef: pi.Metadata["purchaseRef"], Period: period}
}
