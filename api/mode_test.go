//go:build !fuzzonly

package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// stripeWorld is a deployment with a Stripe key (stripe-mock, every request recorded): the API
// and a worker holding Stripe beside the sandbox, as `tollgate api` and `tollgate worker` run.
// w.key is the merchant's sandbox key; live speaks with a live key of the same merchant.
type stripeWorld struct {
	*world
	live  *env
	calls *testenv.StripeCalls
	sb    *sandbox.Processor
}

func newStripeWorld(t *testing.T) *stripeWorld {
	t.Helper()
	live, calls := testenv.Stripe(t)
	tc := testenv.Temporal(t)
	var sb *sandbox.Processor
	w := newWorld(t, func(c *api.Config) {
		sb = sandbox.New(c.Store.Pool)
		c.Payments, c.Temporal = live, tc
		c.Starter = testenv.Lifecycle(t, tc, &activities.Activities{Store: c.Store, Payments: live, Sandbox: sb})
	})
	liveKey := domain.NewSecretRef("sk_live")
	if err := w.st.AddAPIKey(context.Background(), w.merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	return &stripeWorld{world: w, live: &env{t: t, srv: w.env.srv, key: liveKey}, calls: calls, sb: sb}
}

// catalog makes a customer with a card and a monthly plan through e's key, and answers the
// activate-plan body for them.
func (w *stripeWorld) catalog(e *env, email string) (customer, activate string) {
	w.t.Helper()
	customer = e.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
	e.must(200, "POST", "/v1/customers/"+customer+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	prd := e.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pln := e.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	return customer, `{"customerRef":"` + customer + `","productRef":"` + prd + `","planRef":"` + pln + `"}`
}

// purchaseOf is the customer's one purchase in Postgres.
func (w *stripeWorld) purchaseOf(customer string) domain.Purchase {
	w.t.Helper()
	list, _, err := w.st.ListPurchases(context.Background(), w.merchant, store.PurchaseFilter{CustomerRef: customer}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(list) != 1 {
		w.t.Fatalf("purchases of %s: %v %+v", customer, err, list)
	}
	return list[0]
}

// On a deployment with a Stripe key, a sandbox key's card, purchase, renewal and refund all
// stay in the sandbox (nothing reaches Stripe, and the test clock works); a live key's card and
// charge go to Stripe. Neither key acts on the other mode's purchase.
func TestKeyModeDecidesTheProcessor(t *testing.T) {
	w := newStripeWorld(t)
	ctx := context.Background()

	cus, body := w.catalog(w.env, "sandbox@acme.com")
	if res := w.must(200, "POST", "/v1/activate-plan", body); res["status"] != "activated" {
		t.Fatalf("sandbox activation: %v", res)
	}
	p := w.purchaseOf(cus)
	if !p.Sandbox || p.PaidTotal != 4900 {
		t.Fatalf("a sandbox key's purchase: sandbox %v, paid %d", p.Sandbox, p.PaidTotal)
	}
	w.must(200, "POST", "/v1/purchases/"+p.Ref+"/advance-clock", `{"days":32}`)
	pay := w.must(200, "GET", "/v1/transactions?purchaseRef="+p.Ref, "")["data"].([]any)[0].(map[string]any)["reference"].(string)
	w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`","amount":100}`)
	if ledger, err := w.sb.Charges(ctx, p.Ref+"/"); err != nil || len(ledger) != 2 {
		t.Fatalf("sandbox ledger of %s: %v %+v", p.Ref, err, ledger)
	}
	if refunds, err := w.sb.Refunds(ctx, ""); err != nil || len(refunds) != 1 {
		t.Fatalf("sandbox refunds: %v %+v", err, refunds)
	}
	if calls := w.calls.List(); len(calls) != 0 {
		t.Fatalf("a sandbox key reached Stripe: %v", calls)
	}
	if pc := w.must(200, "GET", "/v1/sdk/platform-config", ""); pc["processor"] != "sandbox" || pc["stripePublishableKey"] != "" {
		t.Fatalf("platform config of a sandbox key: %v", pc)
	}

	liveCus, liveBody := w.catalog(w.live, "live@acme.com")
	if w.calls.Count("POST /v1/payment_methods/") == 0 {
		t.Fatalf("a live key's card was not attached at Stripe: %v", w.calls.List())
	}
	w.live.do("POST", "/v1/activate-plan", liveBody) // stripe-mock leaves every PaymentIntent unpaid
	lp := w.purchaseOf(liveCus)
	if lp.Sandbox || w.calls.Count("POST /v1/payment_intents") == 0 {
		t.Fatalf("a live key's purchase: sandbox %v, Stripe saw %v", lp.Sandbox, w.calls.List())
	}
	if ledger, _ := w.sb.Charges(ctx, lp.Ref+"/"); len(ledger) != 0 {
		t.Fatalf("a live purchase was charged in the sandbox: %+v", ledger)
	}
	txns, _, err := w.st.ListTransactions(ctx, w.merchant, store.TransactionFilter{PurchaseRef: lp.Ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(txns) == 0 || txns[0].Processor != "stripe" {
		t.Fatalf("a live purchase's charge: %v %+v", err, txns)
	}
	if status, out := w.live.do("POST", "/v1/purchases/"+lp.Ref+"/advance-clock", `{"days":1}`); status != 400 {
		t.Fatalf("the test clock with a live key: %d %v", status, out)
	}
	if status, out := w.do("POST", "/v1/purchases/"+lp.Ref+"/advance-clock", `{"days":1}`); status != 400 || !strings.Contains(errMessage(out), "sandbox purchases only") {
		t.Fatalf("the test clock of a live purchase with a sandbox key: %d %v", status, out)
	}

	for _, tc := range []struct {
		e          *env
		path, body string
	}{
		{w.env, "/v1/purchases/" + lp.Ref + "/retry-payment", ""},
		{w.env, "/v1/purchases/" + lp.Ref + "/cancel-renewal", ""},
		{w.live, "/v1/purchases/" + p.Ref + "/retry-payment", ""},
		{w.live, "/v1/purchases/" + p.Ref + "/pause", `{"behavior":"void"}`},
		{w.env, "/v1/purchases/" + lp.Ref + "/resume", ""},
		{w.live, "/v1/purchases/" + p.Ref + "/change-plan", `{"planRef":"` + lp.PlanRef + `"}`},
		{w.live, "/v1/refunds", `{"sourceTransactionRef":"` + pay + `","amount":100}`},
		{w.live, "/v1/activate-plan", body}, // the sandbox purchase of that customer and product
	} {
		status, out := tc.e.do("POST", tc.path, tc.body)
		if status != 409 || !strings.Contains(errMessage(out), "key cannot act on it") {
			t.Errorf("POST %s with the other mode's key: %d %v", tc.path, status, out)
		}
	}
}

// A live key on a deployment without Stripe is refused in words (503): its money never settles
// in the sandbox. The sandbox key of the same merchant works as ever.
func TestLiveKeyWithoutStripeIsRefused(t *testing.T) {
	w := newWorld(t)
	liveKey := domain.NewSecretRef("sk_live")
	if err := w.st.AddAPIKey(context.Background(), w.merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	live := &env{t: t, srv: w.env.srv, key: liveKey}
	cus := live.must(201, "POST", "/v1/sdk/customers", `{"email":"live@acme.com"}`)["reference"].(string)
	prd := live.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	live.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)
	for path, body := range map[string]string{
		"/v1/customers/" + cus + "/payment-method": `{"paymentMethod":"pm_card_visa"}`,
		"/v1/activate-plan":                        `{"customerRef":"` + cus + `","productRef":"` + prd + `"}`,
		"/v1/checkout-sessions":                    `{"customerRef":"` + cus + `","productRef":"` + prd + `"}`,
	} {
		status, out := live.do("POST", path, body)
		if status != 503 || !strings.Contains(errMessage(out), "live keys need Stripe") {
			t.Errorf("POST %s with a live key and no Stripe: %d %v", path, status, out)
		}
	}
	if pc := live.must(200, "GET", "/v1/sdk/platform-config", ""); pc["mode"] != "live" || pc["processor"] != "" {
		t.Fatalf("platform config of a live key without Stripe: %v", pc)
	}
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	if cs := w.must(201, "POST", "/v1/checkout-sessions", `{"customerRef":"`+cus+`","productRef":"`+prd+`"}`); cs["mode"] != "sandbox" {
		t.Fatalf("a sandbox key's checkout session: %v", cs)
	}
}

func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
