package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/payments"
)

// ListPayments pages through the ledger's charges since a time, each with its refunds and its
// purchase and period from the charge's metadata; declines are listed as failed.
func TestListPaymentsPagesTheLedger(t *testing.T) {
	ctx := context.Background()
	p, cus := newSandbox(t)
	pm := attach(t, p, cus, "4242424242424242").PaymentMethod
	since := time.Now().Add(-time.Minute)
	var refs []string
	for i := 1; i <= 3; i++ {
		in := charge(cus, pm, fmt.Sprintf("pur_l/period-%d/charge", i), 1000)
		in.Metadata = map[string]string{"purchaseRef": "pur_l", "period": fmt.Sprint(i)}
		res, err := p.Charge(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, res.ProcessorRef)
	}
	refund, err := p.Refund(ctx, payments.RefundInput{IdempotencyKey: "pur_l/refund/r1", ChargeRef: refs[1], Amount: 300})
	if err != nil {
		t.Fatal(err)
	}
	declined := attach(t, p, cus, "pm_card_chargeCustomerFail").PaymentMethod
	if _, err := p.Charge(ctx, charge(cus, declined, "pur_l/period-4/charge", 1000)); err == nil {
		t.Fatal("the failing card charged")
	}

	var listed []payments.ListedPayment
	cursor, pages := "", 0
	for {
		page, err := p.ListPayments(ctx, payments.ListPaymentsInput{Since: since, Cursor: cursor, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		listed = append(listed, page.Payments...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if pages < 2 || len(listed) != 4 {
		t.Fatalf("%d pages, %d payments: %+v", pages, len(listed), listed)
	}
	for i, ref := range refs {
		l := listed[i]
		if l.PaymentRef != ref || l.Status != payments.PaymentSucceeded || l.PurchaseRef != "pur_l" || l.Period != i+1 ||
			l.Key != fmt.Sprintf("pur_l/period-%d/charge", i+1) || l.Amount != 1000 || l.Currency != "USD" {
			t.Fatalf("payment %d: %+v", i, l)
		}
	}
	if r := listed[1].Refunds; len(r) != 1 || r[0].ID != refund.ProcessorRef || r[0].Amount != 300 || r[0].Key != "pur_l/refund/r1" {
		t.Fatalf("refunds: %+v", r)
	}
	if listed[3].Status != payments.PaymentFailed {
		t.Fatalf("the decline: %+v", listed[3])
	}

	later, err := p.ListPayments(ctx, payments.ListPaymentsInput{Since: time.Now().Add(time.Minute)})
	if err != nil || len(later.Payments) != 0 {
		t.Fatalf("payments after now: %+v %v", later, err)
	}
	if _, err := p.ListPayments(ctx, payments.ListPaymentsInput{Cursor: "nonsense"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
}
