package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/web"
)

// withStripe switches the pages to the Stripe processor at backend with a publishable key.
func withStripe(backend string) envOption {
	return func(c *web.Config) {
		c.Payments = stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: backend})
		c.StripePublishableKey = "pk_test_TYooMQauvdEDq54NiTphI7jx"
	}
}

// With a Stripe key a live session's card field is Stripe's Payment Element; only its server side is tested
// (Stripe's script is not reachable offline).
func TestStripeCheckoutRendersThePaymentElement(t *testing.T) {
	e := newEnv(t, nil, withStripe("http://127.0.0.1:9"))
	e.mode = domain.ModeLive
	cs := e.checkout(0)
	resp, body := get(t, e.client(), e.srv.URL+"/checkout/"+cs.Ref)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`<script src="https://js.stripe.com/v3/" defer></script>`, `id="payment-element"`,
		`data-stripe-key="pk_test_TYooMQauvdEDq54NiTphI7jx"`, `data-currency="usd"`, `name="payment_method"`,
		"Card entry needs JavaScript"} {
		if !strings.Contains(body, want) {
			t.Errorf("Stripe checkout lacks %q", want)
		}
	}
	for _, never := range []string{"sk_test_123", e.apiKey, `name="number"`, "Test mode"} {
		if strings.Contains(body, never) {
			t.Errorf("Stripe checkout contains %q", never)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' https://js.stripe.com;", "frame-src https://js.stripe.com https://hooks.stripe.com",
		"connect-src 'self' https://api.stripe.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	// A POST without a PaymentMethod (JavaScript off) is refused in words.
	resp, body = post(t, e.client(), e.srv.URL+"/checkout/"+cs.Ref, url.Values{})
	if resp.StatusCode != 403 {
		t.Errorf("POST without token: %d", resp.StatusCode)
	}
	c := e.client()
	_, page := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, body = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, url.Values{"csrf_token": {csrfOf(t, page)}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Enter your card details.") {
		t.Errorf("POST without payment method: %d", resp.StatusCode)
	}
}

// The PaymentMethod the Payment Element created is attached at Stripe (stripe-mock here) and
// saved as the customer's card before the purchase starts.
func TestStripeCheckoutAttachesThePaymentMethod(t *testing.T) {
	mock := testenv.StripeMock(t)
	e := newEnv(t, nil, withStripe(mock))
	e.mode = domain.ModeLive
	e.fake.noCharge = true
	cs := e.checkout(0)
	c := e.client()
	_, page := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, body := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, url.Values{"csrf_token": {csrfOf(t, page)}, "payment_method": {"pm_card_visa"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay with Stripe: %d\n%s", resp.StatusCode, body)
	}
	cus, err := e.st.GetCustomer(context.Background(), e.merchant, e.customer.Ref)
	if err != nil || cus.Card == nil || !strings.HasPrefix(cus.Card.PaymentMethod, "pm_") {
		t.Fatalf("customer card after Stripe checkout: %+v %v", cus.Card, err)
	}
	if pcus, _ := e.st.ProcessorCustomerID(context.Background(), e.merchant, e.customer.Ref); !strings.HasPrefix(pcus, "cus_") {
		t.Errorf("Stripe customer id stored: %q", pcus)
	}
	if got, _ := e.st.GetCheckoutSession(context.Background(), cs.Ref); got.Status != "complete" {
		t.Errorf("session: %s", got.Status)
	}
}

// A Stripe processor without a publishable key has no safe card field: live sessions' pages show no
// typed-card form and refuse a posted card number without sending anything to Stripe (the
// server refuses to start so, but the pages hold the line on their own too).
func TestStripeWithoutPublishableKeyTakesNoCardNumbers(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	stripeAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.String()+" "+string(b)+" "+r.Header.Get("Idempotency-Key"))
		if r.URL.Path == "/v1/customers" {
			_, _ = io.WriteString(w, `{"id":"cus_test","object":"customer"}`)
			return
		}
		http.Error(w, `{"error":{"type":"api_error"}}`, http.StatusInternalServerError)
	}))
	t.Cleanup(stripeAPI.Close)
	e := newEnv(t, nil, func(c *web.Config) {
		c.Payments = stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: stripeAPI.URL})
	})
	e.mode = domain.ModeLive
	for _, page := range []string{"/checkout/" + e.checkout(0).Ref, "/portal/" + e.portal(0).Ref + "/card"} {
		c := e.client()
		resp, body := get(t, c, e.srv.URL+page)
		if resp.StatusCode != 200 || strings.Contains(body, `name="number"`) || strings.Contains(body, `name="cvc"`) ||
			!strings.Contains(body, "Card payments are not available right now.") {
			t.Errorf("%s: %d, a card form or no notice:\n%s", page, resp.StatusCode, body)
		}
		resp, body = post(t, c, e.srv.URL+page, card("4242 4242 4242 4242", csrfOf(t, body)))
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Nothing was charged.") {
			t.Errorf("POST %s with a card number: %d\n%s", page, resp.StatusCode, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, call := range calls {
		if strings.Contains(call, "4242") {
			t.Errorf("a card number reached Stripe: %s", call)
		}
	}
	if len(calls) != 0 {
		t.Errorf("%d requests reached Stripe, want none: %q", len(calls), calls)
	}
	if cus, _ := e.st.GetCustomer(context.Background(), e.merchant, e.customer.Ref); cus.Card != nil {
		t.Errorf("a card was saved: %+v", cus.Card)
	}
}
