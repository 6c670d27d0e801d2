package stripe

import (
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
)

// A PaymentIntent Tollgate made reads as a listed payment: its key, purchase and period from
// the metadata the charge sent, its status in Tollgate's words.
func TestListedPaymentReadsTollgatesMetadata(t *testing.T) {
	created := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	pi := &stripego.PaymentIntent{ID: "pi_1", Amount: 2000, Currency: "eur", Created: created.Unix(),
		Status:   stripego.PaymentIntentStatusProcessing,
		Metadata: map[string]string{metadataKey: "pur_a/period-3/charge", "purchaseRef": "pur_a", "period": "3"}}
	got := listedPayment(pi)
	if got.PaymentRef != "pi_1" || got.Key != "pur_a/period-3/charge" || got.PurchaseRef != "pur_a" || got.Period != 3 ||
		got.Status != payments.PaymentProcessing || got.Currency != "EUR" || got.Amount != 2000 || !got.Created.Equal(created) {
		t.Fatalf("listed: %+v", got)
	}
}
