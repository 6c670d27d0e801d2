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
func withStripe(backend string) envOption { return withStripeCalls(backend, &testenv.StripeCalls{}) }

// withStripeCalls is withStripe recording (and answering SetupIntents) through calls.
func withStripeCalls(backend string, calls *testenv.StripeCalls) envOption {
	return func(c *web.Config) {
		c.Payments = stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: backend, HTTPClient: calls.Client()})
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

// With a Stripe key the checkout sets the card up on session (a SetupIntent) before anything
// starts. While the bank asks (requires_action) the page hands Stripe.js the SetupIntent's
// client secret and no purchase starts, also on a reload and on a "complete" posted too early;
// once Stripe answers succeeded, "complete" starts the purchase, once. A setup Stripe refuses
// brings the checkout back, saying so.
func TestStripeCheckoutAuthenticatesBeforeThePurchase(t *testing.T) {
	mock := testenv.StripeMock(t)
	calls := &testenv.StripeCalls{}
	e := newEnv(t, nil, withStripeCalls(mock, calls))
	e.mode = domain.ModeLive
	e.fake.noCharge = true
	c := e.client()
	refused := e.checkout(0)
	calls.SetSetupStatus("requires_payment_method")
	_, page := get(t, c, e.srv.URL+"/checkout/"+refused.Ref)
	resp, body := post(t, c, e.srv.URL+"/checkout/"+refused.Ref, url.Values{"csrf_token": {csrfOf(t, page)}, "payment_method": {"pm_card_visa"}})
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, "Try again, or use a different card.") {
		t.Fatalf("a refused setup: %d\n%s", resp.StatusCode, body)
	}
	if n := len(e.purchases()); n != 0 {
		t.Errorf("a refused setup started a purchase: %d purchases", n)
	}
	calls.SetSetupStatus("requires_action")
	cs := e.checkout(0)
	url0 := e.srv.URL + "/checkout/" + cs.Ref
	_, page = get(t, c, url0)
	resp, body = post(t, c, url0, url.Values{"csrf_token": {csrfOf(t, page)}, "payment_method": {"pm_card_authenticationRequired"}})
	step := func(resp *http.Response, body string) {
		t.Helper()
		for _, want := range []string{`action="/checkout/` + cs.Ref + `/authenticate"`, `data-client-secret="seti_`,
			`data-next-action="1"`, `<script src="https://js.stripe.com/v3/" defer></script>`, "Confirm your card"} {
			if resp.StatusCode != 200 || !strings.Contains(body, want) {
				t.Fatalf("the authentication step (%d) lacks %q:\n%s", resp.StatusCode, want, body)
			}
		}
		if n := len(e.purchases()); n != 0 {
			t.Fatalf("%d purchases started before the bank's step", n)
		}
	}
	step(resp, body)
	if n := calls.Count("POST /v1/setup_intents"); n != 2 {
		t.Errorf("%d SetupIntents created", n)
	}
	resp, body = get(t, c, url0) // a reload shows the step again
	step(resp, body)
	complete := url.Values{"csrf_token": {csrfOf(t, body)}, "action": {"complete"}}
	resp, body = post(t, c, url0+"/authenticate", complete) // Stripe still waits for the bank
	step(resp, body)
	if !strings.Contains(body, "Your bank has not confirmed yet") {
		t.Errorf("an early complete does not say the bank has not confirmed:\n%s", body)
	}

	calls.SetSetupStatus("succeeded")
	resp, _ = post(t, c, url0+"/authenticate", complete)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/checkout/"+cs.Ref+"/success" {
		t.Fatalf("complete after the bank's step: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = post(t, c, url0+"/authenticate", complete) // again: the checkout is complete, nothing more starts
	if resp.StatusCode != http.StatusSeeOther || len(e.purchases()) != 1 || calls.Count("POST /v1/setup_intents") != 2 {
		t.Fatalf("a second complete: %d, %d purchases, %d setups", resp.StatusCode, len(e.purchases()),
			calls.Count("POST /v1/setup_intents"))
	}

}
