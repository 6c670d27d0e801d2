package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

// cannedStripe answers every request with one status and body, as Stripe does on errors
// stripe-mock cannot produce (declines, rate limits, outages).
func cannedStripe(t *testing.T, status int, body string) *stripe.Processor {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: srv.URL, MaxNetworkRetries: stripego.Int64(0)})
}

var chargeIn = payments.ChargeInput{IdempotencyKey: "pur_x/period-1/charge", ProcessorCustomerID: "cus_1",
	PaymentMethod: "pm_1", Amount: 1000, Currency: "usd"}

func TestCardErrorsAreDeclines(t *testing.T) {
	for name, tc := range map[string]struct {
		body, code string
	}{
		"decline code": {`{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
			"message":"Your card has insufficient funds.","payment_intent":{"id":"pi_failed","object":"payment_intent"}}}`, "insufficient_funds"},
		"code only":      {`{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}`, "expired_card"},
		"authentication": {`{"error":{"type":"card_error","code":"authentication_required","message":"Needs 3DS."}}`, "authentication_required"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := cannedStripe(t, http.StatusPaymentRequired, tc.body).Charge(context.Background(), chargeIn)
			d, ok := payments.IsDecline(err)
			if !ok || d.Code != tc.code || d.Message == "" {
				t.Fatalf("want decline %s, got %v", tc.code, err)
			}
			if name == "decline code" && res.ProcessorRef != "pi_failed" {
				t.Fatalf("the failed PaymentIntent is lost: %+v", res)
			}
		})
	}
}

func TestInvalidRequestIsADecline(t *testing.T) {
	p := cannedStripe(t, http.StatusBadRequest,
		`{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod: 'pm_1'"}}`)
	_, err := p.Charge(context.Background(), chargeIn)
	if d, ok := payments.IsDecline(err); !ok || d.Code != "payment_method_missing" {
		t.Fatalf("a card removed at Stripe: want payment_method_missing, got %v", err)
	}
	p = cannedStripe(t, http.StatusBadRequest,
		`{"error":{"type":"invalid_request_error","param":"amount","message":"Refund amount is greater than unrefunded amount"}}`)
	_, err = p.Refund(context.Background(), payments.RefundInput{IdempotencyKey: "r", ChargeRef: "pi_1", Amount: 99999})
	if d, ok := payments.IsDecline(err); !ok || d.Code != "invalid_request" {
		t.Fatalf("refund: want invalid_request, got %v", err)
	}
}

// Stripe refuses a refund after its window (180 days for card payments) with its own code, which
// the activity turns into REFUND_WINDOW_CLOSED rather than a failed refund.
func TestRefundPastTheWindowIsTold(t *testing.T) {
	p := cannedStripe(t, http.StatusBadRequest, `{"error":{"type":"invalid_request_error","code":"charge_expired_for_refund",
		"message":"Charge ch_1 has expired and can no longer be refunded."}}`)
	_, err := p.Refund(context.Background(), payments.RefundInput{IdempotencyKey: "r", ChargeRef: "pi_1", Amount: 100})
	if d, ok := payments.IsDecline(err); !ok || d.Code != payments.CodeChargeExpiredForRefund {
		t.Fatalf("want %s, got %v", payments.CodeChargeExpiredForRefund, err)
	}
}

func TestIdempotencyErrorIsMismatch(t *testing.T) {
	p := cannedStripe(t, http.StatusBadRequest, `{"error":{"type":"idempotency_error",
		"message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`)
	_, err := p.Charge(context.Background(), chargeIn)
	if !errors.Is(err, payments.ErrIdempotencyMismatch) {
		t.Fatalf("want mismatch, got %v", err)
	}
	if _, ok := payments.IsDecline(err); ok {
		t.Fatal("a mismatch is not a decline")
	}
}

func TestTransientFaultsAreRetryable(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
	}{
		"rate limited": {http.StatusTooManyRequests, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`},
		"lock timeout": {http.StatusConflict, `{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"locked"}}`},
		"server error": {http.StatusInternalServerError, `{"error":{"type":"api_error","message":"boom"}}`},
		"bad gateway":  {http.StatusBadGateway, `<html>bad gateway</html>`},
		"bad api key":  {http.StatusUnauthorized, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cannedStripe(t, tc.status, tc.body).Charge(context.Background(), chargeIn)
			if err == nil {
				t.Fatal("no error")
			}
			if _, ok := payments.IsDecline(err); ok || errors.Is(err, payments.ErrIdempotencyMismatch) {
				t.Fatalf("want a retryable error, got %v", err)
			}
		})
	}
}

func TestNetworkFaultIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	p := stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: url, MaxNetworkRetries: stripego.Int64(0)})
	_, err := p.Charge(context.Background(), chargeIn)
	if err == nil {
		t.Fatal("no error")
	}
	if _, ok := payments.IsDecline(err); ok {
		t.Fatalf("want a retryable error, got %v", err)
	}
}

// FindCharge picks the customer's PaymentIntent that carries our key, whatever Stripe still
// remembers of the key itself; a 401 is a configuration fault, not an answer.
func TestFindChargeByMetadata(t *testing.T) {
	p := cannedStripe(t, http.StatusOK, `{"object":"list","url":"/v1/payment_intents","has_more":false,"data":[
		{"id":"pi_other","object":"payment_intent","status":"succeeded","metadata":{"tollgate_idempotency_key":"pur_x/period-2/charge"}},
		{"id":"pi_ours","object":"payment_intent","status":"succeeded","metadata":{"tollgate_idempotency_key":"pur_x/period-1/charge"}}]}`)
	res, found, err := p.FindCharge(context.Background(), payments.FindChargeInput{IdempotencyKey: chargeIn.IdempotencyKey,
		ProcessorCustomerID: "cus_1"})
	if err != nil || !found || res.ProcessorRef != "pi_ours" {
		t.Fatalf("find: %+v %v %v", res, found, err)
	}
	_, found, err = p.FindCharge(context.Background(), payments.FindChargeInput{IdempotencyKey: "pur_x/period-3/charge",
		ProcessorCustomerID: "cus_1"})
	if err != nil || found {
		t.Fatalf("a key never used: %v %v", found, err)
	}
	bad := cannedStripe(t, http.StatusUnauthorized, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`)
	_, _, err = bad.FindCharge(context.Background(), payments.FindChargeInput{IdempotencyKey: "k", ProcessorCustomerID: "cus_1"})
	var pe *payments.ProcessorError
	if !errors.As(err, &pe) || !pe.IsConfiguration() {
		t.Fatalf("want a configuration fault, got %v", err)
	}
}
