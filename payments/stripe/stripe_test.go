package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

// againstMock returns a processor talking to stripe-mock through a recording transport.
func againstMock(t *testing.T) (*stripe.Processor, *recorder) {
	t.Helper()
	rec := &recorder{}
	p := stripe.New(stripe.Config{
		SecretKey:         "sk_test_123",
		BackendURL:        stripeMock(t),
		HTTPClient:        &http.Client{Transport: rec, Timeout: 10 * time.Second},
		MaxNetworkRetries: stripego.Int64(0),
	})
	return p, rec
}

// accepted fails unless stripe-mock took the request as well-formed.
func accepted(t *testing.T, r recorded) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s answered %d", r.Method, r.Path, r.Status)
	}
}

func TestEnsureCustomerAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	id, err := p.EnsureCustomer(context.Background(), payments.CustomerInput{
		MerchantRef: "mer_1", CustomerRef: "cus_abc", Email: "ada@example.com", Name: "Ada"})
	if err != nil || !strings.HasPrefix(id, "cus_") {
		t.Fatalf("customer %q, %v", id, err)
	}
	r := rec.only(t, http.MethodPost, "/v1/customers")
	accepted(t, r)
	if r.IdempotencyKey != "cus:cus_abc" || r.Form.Get("email") != "ada@example.com" ||
		r.Form.Get("metadata[tollgate_customer_ref]") != "cus_abc" || r.Form.Get("metadata[tollgate_merchant_ref]") != "mer_1" {
		t.Fatalf("request %+v", r)
	}

	// A stored id makes no request.
	if id, err := p.EnsureCustomer(context.Background(), payments.CustomerInput{CustomerRef: "cus_abc", ExistingID: "cus_known"}); err != nil || id != "cus_known" {
		t.Fatalf("existing: %q, %v", id, err)
	}
	rec.only(t, http.MethodPost, "/v1/customers")
}

func TestAttachPaymentMethodAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	card, err := p.AttachPaymentMethod(context.Background(), payments.AttachInput{ProcessorCustomerID: "cus_123", PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(card.PaymentMethod, "pm_") || card.Brand == "" || len(card.Last4) != 4 || card.ExpYear == 0 {
		t.Fatalf("card %+v", card)
	}
	a := rec.only(t, http.MethodPost, "/v1/payment_methods/pm_card_visa/attach")
	accepted(t, a)
	if a.Form.Get("customer") != "cus_123" || a.IdempotencyKey != "attach:pm_card_visa:cus_123" {
		t.Fatalf("attach %+v", a)
	}
	u := rec.only(t, http.MethodPost, "/v1/customers/cus_123")
	accepted(t, u)
	if u.Form.Get("invoice_settings[default_payment_method]") != card.PaymentMethod {
		t.Fatalf("update %+v", u)
	}
}

func TestChargeAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	in := payments.ChargeInput{IdempotencyKey: "pur_x/period-3/charge", ProcessorCustomerID: "cus_123",
		PaymentMethod: "pm_card_visa", Amount: 2500, Currency: "EUR", Description: "Pro, period 3",
		Metadata: map[string]string{"purchase_ref": "pur_x"}}
	res, err := p.Charge(context.Background(), in)
	// stripe-mock answers a fixture PaymentIntent whatever we ask, often requires_payment_method:
	// all we can prove is that it took the request and that we read its answer.
	if !strings.HasPrefix(res.ProcessorRef, "pi_") {
		t.Fatalf("result %+v, %v", res, err)
	}
	if d, ok := payments.IsDecline(err); err != nil && (!ok || d.Code == "invalid_request") {
		t.Fatalf("charge refused as malformed: %v", err)
	}
	r := rec.only(t, http.MethodPost, "/v1/payment_intents")
	accepted(t, r)
	want := map[string]string{
		"amount": "2500", "currency": "eur", "customer": "cus_123", "payment_method": "pm_card_visa",
		"confirm": "true", "off_session": "true", "payment_method_types[0]": "card",
		"description": "Pro, period 3", "metadata[purchase_ref]": "pur_x",
		"metadata[tollgate_idempotency_key]": "pur_x/period-3/charge",
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r.IdempotencyKey != "pur_x/period-3/charge" {
		t.Fatalf("idempotency key %q", r.IdempotencyKey)
	}
}

func TestRetriedChargeSendsTheSameKey(t *testing.T) {
	p, rec := againstMock(t)
	in := payments.ChargeInput{IdempotencyKey: "pur_y/period-1/charge", ProcessorCustomerID: "cus_1",
		PaymentMethod: "pm_card_visa", Amount: 100, Currency: "usd"}
	for range 3 {
		_, _ = p.Charge(context.Background(), in)
	}
	if len(rec.reqs) != 3 {
		t.Fatalf("%d requests", len(rec.reqs))
	}
	for _, r := range rec.reqs {
		if r.IdempotencyKey != in.IdempotencyKey {
			t.Fatalf("key %q, want %q", r.IdempotencyKey, in.IdempotencyKey)
		}
	}
}

func TestRefundAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	res, err := p.Refund(context.Background(), payments.RefundInput{IdempotencyKey: "rfd_1", ChargeRef: "pi_123",
		Amount: 700, Currency: "usd", Reason: "requested_by_customer"})
	if err != nil || !strings.HasPrefix(res.ProcessorRef, "re_") {
		t.Fatalf("refund %+v, %v", res, err)
	}
	r := rec.only(t, http.MethodPost, "/v1/refunds")
	accepted(t, r)
	if r.IdempotencyKey != "rfd_1" || r.Form.Get("payment_intent") != "pi_123" || r.Form.Get("amount") != "700" ||
		r.Form.Get("reason") != "requested_by_customer" || r.Form.Has("charge") {
		t.Fatalf("request %+v", r)
	}

	// A charge id goes as charge; a free-text reason goes to metadata, not to the enum.
	if _, err := p.Refund(context.Background(), payments.RefundInput{IdempotencyKey: "rfd_2", ChargeRef: "ch_123",
		Amount: 1, Reason: "plan switched"}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	last := rec.reqs[len(rec.reqs)-1]
	rec.mu.Unlock()
	accepted(t, last)
	if last.Form.Get("charge") != "ch_123" || last.Form.Has("reason") || last.Form.Get("metadata[reason]") != "plan switched" {
		t.Fatalf("request %+v", last)
	}
}

func TestMalformedRequestIsAnInvalidRequestDecline(t *testing.T) {
	p, rec := againstMock(t)
	// An id Stripe cannot route is a 404 invalid_request_error, as a missing object is at Stripe
	// (resource_missing): no retry can fix it.
	_, err := p.AttachPaymentMethod(context.Background(), payments.AttachInput{ProcessorCustomerID: "cus_1", PaymentMethod: "pm_card_visa/../x"})
	if d, ok := payments.IsDecline(err); !ok || d.Code != "invalid_request" {
		t.Fatalf("want invalid_request, got %v (requests %+v)", err, rec.reqs)
	}
}

func TestLocalChecksSendNothing(t *testing.T) {
	p, rec := againstMock(t)
	ctx := context.Background()
	_, err1 := p.Charge(ctx, payments.ChargeInput{ProcessorCustomerID: "cus_1", PaymentMethod: "pm_card_visa", Amount: 100, Currency: "usd"})
	_, err2 := p.Charge(ctx, payments.ChargeInput{IdempotencyKey: "k", ProcessorCustomerID: "cus_1", PaymentMethod: "pm_card_visa", Currency: "usd"})
	_, err3 := p.Refund(ctx, payments.RefundInput{ChargeRef: "pi_1", Amount: 1})
	_, err4 := p.Charge(ctx, payments.ChargeInput{IdempotencyKey: "k", ProcessorCustomerID: "cus_1", PaymentMethod: "pm_card_visa", Amount: 100})
	for i, err := range []error{err1, err2, err3, err4} {
		if d, ok := payments.IsDecline(err); !ok || d.Code != "invalid_request" {
			t.Errorf("%d: want invalid_request, got %v", i, err)
		}
	}
	if len(rec.reqs) != 0 {
		t.Fatalf("sent %+v", rec.reqs)
	}
}

// stripe-mock takes the lookup's list request as well-formed (its fixtures carry no key of ours).
func TestFindChargeAgainstStripeMock(t *testing.T) {
	p, rec := againstMock(t)
	_, found, err := p.FindCharge(context.Background(), payments.FindChargeInput{IdempotencyKey: "pur_x/period-3/charge",
		ProcessorCustomerID: "cus_123"})
	if err != nil || found {
		t.Fatalf("find: %v %v", found, err)
	}
	accepted(t, rec.only(t, http.MethodGet, "/v1/payment_intents"))
}
