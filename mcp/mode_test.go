package mcp_test

import (
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// On a deployment with a Stripe key (stripe-mock, every request recorded), an assistant holding
// a sandbox key activates plans and makes checkout links in the sandbox: nothing reaches Stripe.
// With a live key the same tool charges at Stripe.
func TestMCPKeyModeDecidesTheProcessor(t *testing.T) {
	live, calls := testenv.Stripe(t)
	tc := testenv.Temporal(t)
	w := newWorld(t, func(c *api.Config) {
		sb := c.Payments // the world's sandbox (w.sb)
		c.Payments, c.Temporal = live, tc
		c.Starter = testenv.Lifecycle(t, tc, &activities.Activities{Store: c.Store, Payments: live, Sandbox: sb})
	})
	liveKey := domain.NewSecretRef("sk_live")
	if err := w.st.AddAPIKey(w.ctx, w.merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}

	cs := w.overHTTP(w.key)
	product := ok(t, cs, "create_product", map[string]any{"name": "support-bot"}).str("reference")
	plan := ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Pro", "type": "recurring", "price": 4900,
		"currency": "USD", "billingCycle": "monthly"}).str("reference")
	buy := func(cs *sdk.ClientSession, key, email string) (customer string, p domain.Purchase) {
		t.Helper()
		customer = ok(t, cs, "create_customer", map[string]any{"email": email}).str("reference")
		w.restAs(key, 200, "POST", "/v1/customers/"+customer+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		call(t, cs, "activate_plan", map[string]any{"customerRef": customer, "productRef": product, "planRef": plan})
		list, _, err := w.st.ListPurchases(w.ctx, w.merchant, store.PurchaseFilter{CustomerRef: customer}, store.Page{Page: 1, Limit: 10})
		if err != nil || len(list) != 1 {
			t.Fatalf("purchases of %s: %v %+v", customer, err, list)
		}
		return customer, list[0]
	}

	customer, p := buy(cs, w.key, "sandbox@acme.com")
	if !p.Sandbox || p.Status != domain.PurchaseActive {
		t.Fatalf("activate_plan with a sandbox key: %+v", p)
	}
	if ledger, err := w.sb.Charges(w.ctx, p.Ref+"/"); err != nil || len(ledger) != 1 {
		t.Fatalf("sandbox ledger: %v %+v", err, ledger)
	}
	link := ok(t, cs, "create_checkout_session", map[string]any{"customerRef": customer, "productRef": product})
	if s, err := w.st.GetCheckoutSession(w.ctx, link.str("reference")); err != nil || !s.Sandbox() || link.str("mode") != "sandbox" {
		t.Fatalf("a sandbox key's checkout link: %v %+v %v", err, s, link.structured)
	}
	if got := calls.List(); len(got) != 0 {
		t.Fatalf("an assistant with a sandbox key reached Stripe: %v", got)
	}

	liveCS := w.overHTTP(liveKey)
	_, lp := buy(liveCS, liveKey, "live@acme.com") // stripe-mock leaves the PaymentIntent unpaid
	if lp.Sandbox || calls.Count("POST /v1/payment_intents") == 0 {
		t.Fatalf("activate_plan with a live key: sandbox %v, Stripe saw %v", lp.Sandbox, calls.List())
	}
	if ledger, _ := w.sb.Charges(w.ctx, lp.Ref+"/"); len(ledger) != 0 {
		t.Fatalf("a live purchase was charged in the sandbox: %+v", ledger)
	}
}
