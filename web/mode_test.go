package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/web"
)

// On a deployment with a Stripe key (stripe-mock, every request recorded), a checkout a sandbox
// key created takes a test card and makes a sandbox purchase charged in the sandbox, and its
// portal updates cards in the sandbox: nothing reaches Stripe. A live key's checkout takes the
// card in Stripe's field, and its purchase is live and charged at Stripe.
func TestSessionModeDecidesTheProcessor(t *testing.T) {
	live, calls := testenv.Stripe(t)
	var sc *starter.Client
	e := newEnv(t, func(e *env) web.Lifecycle {
		sc = testenv.Lifecycle(e.t, testenv.Temporal(e.t), &activities.Activities{Store: e.st, Payments: live, Sandbox: e.pay})
		return web.FromStarter(sc)
	}, func(c *web.Config) {
		c.Payments, c.StripePublishableKey = live, "pk_test_TYooMQauvdEDq54NiTphI7jx"
	})
	ctx := context.Background()
	liveKey := domain.NewSecretRef("sk_live")
	if err := e.st.AddAPIKey(ctx, e.merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(api.New(api.Config{Store: e.st, Payments: live, Temporal: sc.Temporal, Starter: sc}))
	t.Cleanup(apiSrv.Close)
	session := func(key, path, customer string) (mode, link string) {
		t.Helper()
		body := `{"customerRef":"` + customer + `"}`
		if path == "/v1/checkout-sessions" {
			body = `{"customerRef":"` + customer + `","productRef":"` + e.product.Ref + `"}`
		}
		req, _ := http.NewRequest("POST", apiSrv.URL+path, strings.NewReader(body))
		req.Header.Set("X-API-KEY", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct{ Mode, URL string }
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 {
			t.Fatalf("POST %s: %d %v", path, res.StatusCode, err)
		}
		u, _ := url.Parse(out.URL)
		return out.Mode, e.srv.URL + u.Path
	}

	mode, page := session(e.apiKey, "/v1/checkout-sessions", e.customer.Ref)
	c := e.client()
	_, body := get(t, c, page)
	if mode != "sandbox" || !strings.Contains(body, `name="number"`) || strings.Contains(body, "payment-element") ||
		!strings.Contains(body, "Test mode") {
		t.Fatalf("a sandbox key's checkout (%s) is not the sandbox's test-card form:\n%s", mode, body)
	}
	if resp, body := post(t, c, page, card("4242424242424242", csrfOf(t, body))); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay with a test card: %d\n%s", resp.StatusCode, body)
	}
	ps := e.purchases()
	if len(ps) != 1 || !ps[0].Sandbox || ps[0].Status != domain.PurchaseActive {
		t.Fatalf("the sandbox checkout's purchase: %+v", ps)
	}
	if ledger, err := e.pay.(*sandbox.Processor).Charges(ctx, ps[0].Ref+"/"); err != nil || len(ledger) != 1 {
		t.Fatalf("sandbox ledger: %v %+v", err, ledger)
	}
	mode, page = session(e.apiKey, "/v1/customer-sessions", e.customer.Ref)
	_, body = get(t, c, page+"/card")
	if mode != "sandbox" || !strings.Contains(body, `name="number"`) {
		t.Fatalf("a sandbox key's portal (%s) has no test-card form:\n%s", mode, body)
	}
	if resp, body := post(t, c, page+"/card", card("5555555555554444", csrfOf(t, body))); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update the card in the sandbox portal: %d\n%s", resp.StatusCode, body)
	}
	if got := calls.List(); len(got) != 0 {
		t.Fatalf("a sandbox key's sessions reached Stripe: %v", got)
	}

	buyer, err := e.st.CreateCustomer(ctx, domain.Customer{MerchantRef: e.merchant, Email: "live@acme.com", Name: "Lee Live"})
	if err != nil {
		t.Fatal(err)
	}
	mode, page = session(liveKey, "/v1/checkout-sessions", buyer.Ref)
	_, body = get(t, c, page)
	if mode != "live" || strings.Contains(body, `name="number"`) || !strings.Contains(body, "payment-element") ||
		strings.Contains(body, "Test mode") {
		t.Fatalf("a live key's checkout (%s) is not Stripe's Payment Element:\n%s", mode, body)
	}
	post(t, c, page, url.Values{"csrf_token": {csrfOf(t, body)}, "payment_method": {"pm_card_visa"}}) // stripe-mock leaves it unpaid
	if calls.Count("POST /v1/payment_methods/") == 0 || calls.Count("POST /v1/payment_intents") == 0 {
		t.Fatalf("a live checkout's card and charge did not reach Stripe: %v", calls.List())
	}
	list, _, err := e.st.ListPurchases(ctx, e.merchant, store.PurchaseFilter{CustomerRef: buyer.Ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(list) != 1 || list[0].Sandbox {
		t.Fatalf("a live key's checkout made no live purchase: %v %+v", err, list)
	}
	p := list[0]
	if ledger, _ := e.pay.(*sandbox.Processor).Charges(ctx, p.Ref+"/"); len(ledger) != 0 {
		t.Fatalf("a live purchase was charged in the sandbox: %+v", ledger)
	}
}
