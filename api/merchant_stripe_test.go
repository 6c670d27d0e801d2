//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

const defaultStripeKey = "sk_test_deploymentdefault"

// withAccounts gives the server merchants' own Stripe accounts beside a default Stripe key,
// every call to Stripe through a proxy that records the key it carries.
func withAccounts(t *testing.T, requests **testenv.StripeRequests, temporal bool) func(*api.Config) {
	return func(c *api.Config) {
		backend, rec := testenv.StripeProxy(t)
		*requests = rec
		live := stripe.New(stripe.Config{SecretKey: defaultStripeKey, BackendURL: backend, MaxNetworkRetries: new(int64)})
		c.Payments, c.StripePublishableKey = live, "pk_test_deploymentdefault"
		c.Accounts = &processors.Accounts{Store: c.Store, Keys: testenv.Keyring(t), BackendURL: backend}
		if temporal {
			modes := processors.Split(live, c.Store.Pool)
			modes.Merchants = c.Accounts
			c.Temporal = testenv.Temporal(t)
			c.Starter = testenv.Lifecycle(t, c.Temporal, activities.New(c.Store, modes))
		}
	}
}

// onboard makes a merchant through the admin API, with its own Stripe keys when secretKey is
// set, and answers its reference and live API key.
func (e *adminEnv) onboard(name, secretKey, webhookSecret string) (ref, liveKey string) {
	e.t.Helper()
	created := e.must(201, "POST", "/admin/v1/merchants", adminToken, `{"name":"`+name+`"}`)
	ref = created["merchant"].(map[string]any)["reference"].(string)
	for _, k := range created["keys"].([]any) {
		if k := k.(map[string]any); k["mode"] == "live" {
			liveKey = k["secret"].(string)
		}
	}
	if secretKey != "" {
		body, _ := json.Marshal(map[string]any{"secretKey": secretKey, "publishableKey": "pk_test_" + name + "0000pub", "webhookSecret": webhookSecret})
		info := e.must(200, "PUT", "/admin/v1/merchants/"+ref+"/stripe", adminToken, string(body))
		if info["own"] != true || strings.Contains(info["secretKeyHint"].(string), secretKey) {
			e.t.Fatalf("set-stripe answered %v", info)
		}
	}
	return ref, liveKey
}

// Two merchants with their own Stripe accounts and one without, on one deployment: each one's
// card attachment, customer and charges (the worker's) reach Stripe with its own secret key,
// the third's with the deployment's; each one's pages get its own publishable key.
func TestEachMerchantsOwnStripe(t *testing.T) {
	var requests *testenv.StripeRequests
	e := newAdminEnv(t, adminToken, withAccounts(t, &requests, true))
	type merchant struct {
		ref, secret, live, customer, body, publishable string
	}
	ms := []*merchant{{secret: "sk_test_Acme0000own"}, {secret: "sk_test_Globex000own"}, {secret: ""}}
	for i, name := range []string{"Acme", "Globex", "Initech"} {
		m := ms[i]
		m.ref, m.live = e.onboard(name, m.secret, "")
		m.publishable = "pk_test_" + name + "0000pub"
		if m.secret == "" {
			m.secret, m.publishable = defaultStripeKey, "pk_test_deploymentdefault"
		}
	}
	// cards, one merchant at a time: each call is answered before the next merchant's
	for _, m := range ms {
		le := &env{t: t, srv: e.srv, key: m.live}
		before := len(requests.List())
		if pc := le.must(200, "GET", "/v1/sdk/platform-config", ""); pc["processor"] != "stripe" || pc["stripePublishableKey"] != m.publishable {
			t.Errorf("%s's platform config: %v", m.ref, pc)
		}
		m.customer = le.must(201, "POST", "/v1/sdk/customers", `{"email":"jane@`+m.ref+`.example","name":"Jane"}`)["reference"].(string)
		le.must(200, "POST", "/v1/customers/"+m.customer+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		prd := le.must(201, "POST", "/v1/products", `{"name":"bot"}`)["reference"].(string)
		pln := le.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
		m.body = `{"customerRef":"` + m.customer + `","productRef":"` + prd + `","planRef":"` + pln + `"}`
		attached := 0
		for _, r := range requests.List()[before:] {
			if r.Key != m.secret {
				t.Errorf("merchant %s's %s carried %q, not %q", m.ref, r.Call, r.Key, m.secret)
			}
			if strings.HasSuffix(r.Call, "/attach") {
				attached++
			}
		}
		if attached == 0 {
			t.Errorf("merchant %s's card was not attached at Stripe", m.ref)
		}
	}
	// purchases: the worker charges them, each with its merchant's key (told apart by the
	// idempotency key, which names the purchase)
	purchases := map[string]*merchant{}
	for _, m := range ms {
		le := &env{t: t, srv: e.srv, key: m.live}
		le.do("POST", "/v1/activate-plan", m.body) // stripe-mock leaves every PaymentIntent unpaid
		list := le.must(200, "GET", "/v1/purchases?customerRef="+m.customer, "")["data"].([]any)
		if len(list) != 1 {
			t.Fatalf("%s's purchases: %v", m.ref, list)
		}
		purchases[list[0].(map[string]any)["reference"].(string)] = m
	}
	charged := map[string]int{}
	for _, r := range requests.List() {
		if r.Call != "POST /v1/payment_intents" {
			continue
		}
		pur, _, _ := strings.Cut(r.IdempotencyKey, "/")
		m := purchases[pur]
		if m == nil {
			t.Errorf("a charge under key %q of no purchase", r.IdempotencyKey)
			continue
		}
		if r.Key != m.secret {
			t.Errorf("purchase %s of merchant %s was charged with %q, not %q", pur, m.ref, r.Key, m.secret)
		}
		charged[m.ref]++
	}
	for _, m := range ms {
		if charged[m.ref] == 0 {
			t.Errorf("merchant %s's purchase was never charged at Stripe: %v", m.ref, requests.List())
		}
	}
}

// The admin API sets, shows and removes a merchant's own Stripe: its answers and the database
// hold no secret in clear.
func TestAdminSetsMerchantStripe(t *testing.T) {
	var requests *testenv.StripeRequests
	e := newAdminEnv(t, adminToken, withAccounts(t, &requests, false))
	ref, _ := e.onboard("Acme", "", "")
	M := "/admin/v1/merchants/" + ref + "/stripe"
	if got := e.must(200, "GET", M, adminToken, ""); got["own"] != false {
		t.Errorf("before: %v", got)
	}
	set := e.must(200, "PUT", M, adminToken, `{"secretKey":"sk_live_Acme0000secret9876","publishableKey":"pk_live_Acme0000pub","webhookSecret":"whsec_Acme0000hook"}`)
	if set["own"] != true || set["secretKeyHint"] != "sk_live_…9876" || set["livemode"] != true || set["webhookSecret"] != true {
		t.Errorf("set: %v", set)
	}
	// without webhookSecret the stored one is kept
	e.must(200, "PUT", M, adminToken, `{"secretKey":"sk_live_Acme0000secret1234","publishableKey":"pk_live_Acme0000pub"}`)
	got := e.must(200, "GET", M, adminToken, "")
	raw, _ := json.Marshal(got)
	if got["secretKeyHint"] != "sk_live_…1234" || got["webhookSecret"] != true || strings.Contains(string(raw), "secret1234") {
		t.Errorf("get: %s", raw)
	}
	var row string
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT s::text FROM merchant_stripe s`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, "sk_live_Acme0000secret1234") || strings.Contains(row, "whsec_Acme0000hook") {
		t.Errorf("a secret is stored in clear: %s", row)
	}
	if strings.Contains(e.logs.String(), "secret1234") {
		t.Errorf("a secret reached the log")
	}
	if got := e.must(200, "DELETE", M, adminToken, ""); got["own"] != false {
		t.Errorf("removed: %v", got)
	}
}

// Events of a merchant's own Stripe account come to /v1/webhooks/stripe/<merchant> and are
// verified with that merchant's webhook secret alone.
func TestMerchantStripeWebhookRoute(t *testing.T) {
	var requests *testenv.StripeRequests
	e := newAdminEnv(t, adminToken, withAccounts(t, &requests, false), func(c *api.Config) { c.StripeWebhookSecret = "whsec_deployment0000" })
	a, _ := e.onboard("Acme", "sk_test_Acme0000own", "whsec_Acme0000hook")
	b, _ := e.onboard("Globex", "sk_test_Globex000own", "whsec_Globex000hook")
	none, _ := e.onboard("Initech", "sk_test_Initech00own", "")
	ev := []byte(`{"id":"evt_1","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	w := &env{t: t, srv: e.srv}
	deliver := func(path, secret string) (int, map[string]any) {
		t.Helper()
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev, Secret: secret, Timestamp: time.Now()})
		return w.do("POST", path, string(ev), "Stripe-Signature", signed.Header)
	}
	if s, out := deliver("/v1/webhooks/stripe/"+a, "whsec_Acme0000hook"); s != 200 || out["received"] != true {
		t.Errorf("A's event on A's route: %d %v", s, out)
	}
	for _, c := range []struct {
		path, secret string
		status       int
	}{
		{"/v1/webhooks/stripe/" + b, "whsec_Acme0000hook", 400},     // A's secret on B's route
		{"/v1/webhooks/stripe/" + a, "whsec_deployment0000", 400},   // the deployment's secret on A's route
		{"/v1/webhooks/stripe", "whsec_Acme0000hook", 400},          // A's secret on the deployment's route
		{"/v1/webhooks/stripe/" + none, "whsec_Acme0000hook", 503},  // no webhook secret set
		{"/v1/webhooks/stripe/mer_nope", "whsec_Acme0000hook", 404}, // no such merchant
	} {
		if s, out := deliver(c.path, c.secret); s != c.status {
			t.Errorf("%s signed with %s: %d %v, want %d", c.path, c.secret, s, out, c.status)
		}
	}
}

// A server that cannot open a merchant's own Stripe key (another TOLLGATE_ENCRYPTION_KEY) answers
// that merchant's live card call 503 and sends nothing to Stripe — it never falls back to the
// deployment's account (here unreachable: that would be another error).
func TestUnopenableOwnStripeIsUnavailable(t *testing.T) {
	var requests *testenv.StripeRequests
	e := newAdminEnv(t, adminToken, withAccounts(t, &requests, false))
	ref, live := e.onboard("Acme", "sk_test_Acme0000own", "")
	other := newAdminEnv(t, adminToken, func(c *api.Config) {
		c.Store = e.st
		c.Payments = stripe.New(stripe.Config{SecretKey: defaultStripeKey, BackendURL: "http://127.0.0.1:9"})
		c.Accounts = &processors.Accounts{Store: e.st, Keys: testenv.Keyring(t)}
	})
	le := &env{t: t, srv: other.srv, key: live}
	cus := le.must(201, "POST", "/v1/sdk/customers", `{"email":"jane@acme.example"}`)["reference"].(string)
	before := len(requests.List())
	status, out := le.do("POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	if status != 503 || !strings.Contains(errMessage(out), "this merchant's Stripe account is not available") {
		t.Errorf("%s's card with its key unopenable: %d %v", ref, status, out)
	}
	if got := requests.List()[before:]; len(got) != 0 {
		t.Errorf("calls reached Stripe: %v", got)
	}
	if !strings.Contains(other.logs.String(), "cannot be used") {
		t.Errorf("the operator is not told:\n%s", other.logs.String())
	}
}
