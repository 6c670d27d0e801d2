package stripe_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/payments"
)

// ListPayments asks Stripe for one page of PaymentIntents created since the time given, from
// the cursor on; stripe-mock's PaymentIntent carries no Tollgate key, so it is read and left out.
func TestListPaymentsAgainstStripeMock(t *testing.T) {
	since := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p, rec := againstMock(t)
	page, err := p.ListPayments(context.Background(), payments.ListPaymentsInput{Since: since, Limit: 50})
	if err != nil || page.Read == 0 || len(page.Payments) != 0 || page.Next != "" {
		t.Fatalf("page: %+v %v", page, err)
	}
	r := rec.only(t, http.MethodGet, "/v1/payment_intents")
	accepted(t, r)
	if r.Form.Get("created[gte]") != strconv.FormatInt(since.Unix(), 10) || r.Form.Get("limit") != "50" || r.Form.Has("starting_after") {
		t.Fatalf("list parameters: %v", r.Form)
	}

	p, rec = againstMock(t)
	if _, err := p.ListPayments(context.Background(), payments.ListPaymentsInput{Since: since, Cursor: "pi_123"}); err != nil {
		t.Fatal(err)
	}
	r = rec.only(t, http.MethodGet, "/v1/payment_intents")
	accepted(t, r)
	if r.Form.Get("starting_after") != "pi_123" || r.Form.Get("limit") != "100" {
		t.Fatalf("next page parameters: %v", r.Form)
	}
}
