//go:build !fuzzonly

package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTenantIsolation walks every route with merchant B's key against merchant A's objects: B
// gets 404 on each of them, never sees them in a list or a stat, and changes nothing of A's.
// A route missing from the table fails the test, so a new route must say how it is isolated.
func TestTenantIsolation(t *testing.T) {
	w := newWorld(t)
	a := w.fixture(w.env, w.merchant, "jane@acme.com")
	w.must(200, "PATCH", "/v1/sdk/customers/"+a.customer, `{"externalRef":"shared-ref-1"}`)
	meter := w.must(201, "POST", "/v1/meters", `{"name":"a-meter"}`)["reference"].(string)
	b := w.asB()
	bProduct := b.must(201, "POST", "/v1/products", `{"name":"b-product"}`)["reference"].(string)

	event := w.must(200, "GET", "/v1/events?objectRef="+a.payment, "")["data"].([]any)[0].(map[string]any)["reference"].(string)
	hook := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"http://127.0.0.1:9/a-hook"}`)["reference"].(string)
	rate := w.must(201, "POST", "/v1/tax-rates", `{"name":"A-VAT","percentage":"19","country":"DE"}`)["reference"].(string)
	secrets := []string{hook, rate, "A-VAT", "a-hook", a.customer, a.product, a.plan, a.purchase, a.payment, a.refund, a.invoice, a.creditNote, meter, event, w.merchant, "jane@acme.com", "a-meter", "support-bot"}
	refs := `"customerRef":"` + a.customer + `","productRef":"` + a.product + `"`
	const (
		notFound = iota // B gets 404
		list            // B gets an empty list
		own             // B gets its own data, none of A's
	)
	type call struct {
		path, body string
		want       int
	}
	C, P, L, PU, T := "/v1/customers/"+a.customer, "/v1/products/"+a.product, "/plans/"+a.plan, "/v1/purchases/"+a.purchase, "/v1/transactions/"+a.payment
	table := map[string][]call{
		"GET /v1/customers":                                 {{"/v1/customers", "", list}, {"/v1/customers?reference=shared-ref-1", "", list}},
		"POST /v1/customers":                                {{"/v1/customers", `{"reference":"shared-ref-1","email":"jane@acme.com"}`, own}},
		"GET /v1/customers/{ref}":                           {{C, "", notFound}, {"/v1/customers/shared-ref-1-nope", "", notFound}},
		"POST /v1/customers/{ref}/activate":                 {{C + "/activate", "", notFound}},
		"POST /v1/customers/{ref}/payment-method":           {{C + "/payment-method", `{"paymentMethod":"pm_card_visa"}`, notFound}},
		"GET /v1/sdk/customers":                             {{"/v1/sdk/customers?search=jane", "", list}},
		"POST /v1/sdk/customers":                            {{"/v1/sdk/customers", `{"email":"jane@acme.com","externalRef":"shared-ref-1"}`, own}},
		"POST /v1/sdk/customers/ensure":                     {{"/v1/sdk/customers/ensure", `{"email":"jane@acme.com"}`, own}},
		"GET /v1/sdk/customers/{ref}":                       {{"/v1/sdk/customers/" + a.customer, "", notFound}},
		"PATCH /v1/sdk/customers/{ref}":                     {{"/v1/sdk/customers/" + a.customer, `{"name":"Mallory"}`, notFound}},
		"DELETE /v1/sdk/customers/{ref}":                    {{"/v1/sdk/customers/" + a.customer, "", notFound}},
		"GET /v1/sdk/merchant":                              {{"/v1/sdk/merchant", "", own}},
		"GET /v1/sdk/platform-config":                       {{"/v1/sdk/platform-config", "", own}},
		"GET /v1/sdk/payment-method":                        {{"/v1/sdk/payment-method?customerRef=" + a.customer, "", notFound}},
		"GET /v1/products":                                  {{"/v1/products?search=support", "", list}},
		"POST /v1/products":                                 {{"/v1/products", `{"name":"b-two"}`, own}},
		"GET /v1/products/{ref}":                            {{P, "", notFound}},
		"PATCH /v1/products/{ref}":                          {{P, `{"name":"stolen"}`, notFound}},
		"DELETE /v1/products/{ref}":                         {{P, "", notFound}},
		"GET /v1/products/{ref}/balance":                    {{P + "/balance", "", notFound}},
		"GET /v1/products/{ref}/plans":                      {{P + "/plans", "", notFound}},
		"POST /v1/products/{ref}/plans":                     {{P + "/plans", `{"name":"x","type":"free"}`, notFound}},
		"GET /v1/products/{ref}/plans/{planRef}":            {{P + L, "", notFound}, {"/v1/products/" + bProduct + L, "", notFound}},
		"PATCH /v1/products/{ref}/plans/{planRef}":          {{P + L, `{"price":1}`, notFound}, {"/v1/products/" + bProduct + L, `{"price":1}`, notFound}},
		"DELETE /v1/products/{ref}/plans/{planRef}":         {{P + L, "", notFound}, {"/v1/products/" + bProduct + L, "", notFound}},
		"GET /v1/purchases":                                 {{"/v1/purchases", "", list}, {"/v1/purchases?customerRef=" + a.customer, "", notFound}, {"/v1/purchases?productRef=" + a.product, "", notFound}},
		"GET /v1/purchases/{ref}":                           {{PU, "", notFound}},
		"POST /v1/purchases/{ref}/cancel-renewal":           {{PU + "/cancel-renewal", `{"reason":"x"}`, notFound}},
		"POST /v1/purchases/{ref}/reactivate":               {{PU + "/reactivate", "", notFound}},
		"POST /v1/purchases/{ref}/change-plan":              {{PU + "/change-plan", `{"planRef":"` + a.plan + `"}`, notFound}},
		"POST /v1/purchases/{ref}/change-plan/preview":      {{PU + "/change-plan/preview", `{"planRef":"` + a.plan + `"}`, notFound}},
		"POST /v1/purchases/{ref}/cancel-scheduled-change":  {{PU + "/cancel-scheduled-change", "", notFound}},
		"POST /v1/purchases/{ref}/retry-payment":            {{PU + "/retry-payment", "", notFound}},
		"POST /v1/purchases/{ref}/advance-clock":            {{PU + "/advance-clock", `{"days":1}`, notFound}},
		"POST /v1/purchases/{ref}/pause":                    {{PU + "/pause", `{"behavior":"void"}`, notFound}},
		"POST /v1/purchases/{ref}/resume":                   {{PU + "/resume", "", notFound}},
		"POST /v1/activate-plan":                            {{"/v1/activate-plan", `{` + refs + `}`, notFound}},
		"GET /v1/transactions":                              {{"/v1/transactions", "", list}, {"/v1/transactions?purchaseRef=" + a.purchase, "", list}},
		"GET /v1/transactions/stats":                        {{"/v1/transactions/stats", "", own}},
		"GET /v1/transactions/{ref}":                        {{T, "", notFound}, {"/v1/transactions/" + a.refund, "", notFound}},
		"POST /v1/refunds":                                  {{"/v1/refunds", `{"sourceTransactionRef":"` + a.payment + `"}`, notFound}},
		"GET /v1/invoices":                                  {{"/v1/invoices", "", list}, {"/v1/invoices?purchaseRef=" + a.purchase, "", list}},
		"GET /v1/invoices/{ref}":                            {{"/v1/invoices/" + a.invoice, "", notFound}},
		"GET /v1/invoices/{ref}/pdf":                        {{"/v1/invoices/" + a.invoice + "/pdf", "", notFound}},
		"GET /v1/credit-notes/{ref}/pdf":                    {{"/v1/credit-notes/" + a.creditNote + "/pdf", "", notFound}},
		"POST /v1/invoices/{ref}/void":                      {{"/v1/invoices/" + a.invoice + "/void", "", notFound}},
		"GET /v1/settings/invoices":                         {{"/v1/settings/invoices", "", own}},
		"PATCH /v1/settings/invoices":                       {{"/v1/settings/invoices", `{"prefix":"B"}`, own}},
		"GET /v1/credit-notes":                              {{"/v1/credit-notes", "", list}, {"/v1/credit-notes?customerRef=" + a.customer, "", list}},
		"GET /v1/credit-notes/{ref}":                        {{"/v1/credit-notes/" + a.creditNote, "", notFound}},
		"GET /v1/tax-rates":                                 {{"/v1/tax-rates", "", list}, {"/v1/tax-rates?active=true", "", list}},
		"POST /v1/tax-rates":                                {{"/v1/tax-rates", `{"name":"B-VAT","percentage":"20","country":"DE"}`, own}},
		"GET /v1/tax-rates/{ref}":                           {{"/v1/tax-rates/" + rate, "", notFound}},
		"POST /v1/tax-rates/{ref}/archive":                  {{"/v1/tax-rates/" + rate + "/archive", "", notFound}},
		"POST /v1/sandbox/transactions/{ref}/settle":        {{"/v1/sandbox/transactions/" + a.payment + "/settle", `{"outcome":"failed"}`, notFound}},
		"POST /v1/sandbox/transactions/{ref}/dispute":       {{"/v1/sandbox/transactions/" + a.payment + "/dispute", "", notFound}},
		"POST /v1/sandbox/transactions/{ref}/dispute/close": {{"/v1/sandbox/transactions/" + a.payment + "/dispute/close", `{"outcome":"lost"}`, notFound}},
		"POST /v1/checkout-sessions":                        {{"/v1/checkout-sessions", `{` + refs + `}`, notFound}},
		"POST /v1/customer-sessions":                        {{"/v1/customer-sessions", `{"customerRef":"` + a.customer + `"}`, notFound}},
		"POST /v1/usages":                                   {{"/v1/usages", `{` + refs + `,"units":1}`, notFound}},
		"POST /v1/usages/bulk":                              {{"/v1/usages/bulk", `{"events":[{` + refs + `,"units":1}]}`, notFound}},
		"POST /v1/limits":                                   {{"/v1/limits", `{` + refs + `}`, notFound}},
		"GET /v1/meters":                                    {{"/v1/meters", "", own}},
		"POST /v1/meters":                                   {{"/v1/meters", `{"name":"a-meter"}`, own}},
		"GET /v1/meters/{ref}":                              {{"/v1/meters/" + meter, "", notFound}},
		"DELETE /v1/meters/{ref}":                           {{"/v1/meters/" + meter, "", notFound}},
		"GET /v1/settings/dunning":                          {{"/v1/settings/dunning", "", own}},
		"PATCH /v1/settings/dunning":                        {{"/v1/settings/dunning", `{"gracePeriodDays":2}`, own}},
		"GET /v1/settings/disputes":                         {{"/v1/settings/disputes", "", own}},
		"PATCH /v1/settings/disputes":                       {{"/v1/settings/disputes", `{"access":"keep"}`, own}},
		"GET /v1/events":                                    {{"/v1/events", "", list}, {"/v1/events?objectRef=" + a.purchase, "", list}},
		"GET /v1/events/{ref}":                              {{"/v1/events/" + event, "", notFound}},
		"GET /v1/webhook-endpoints":                         {{"/v1/webhook-endpoints", "", list}},
		"POST /v1/webhook-endpoints":                        {{"/v1/webhook-endpoints", `{"url":"http://127.0.0.1:9/b"}`, own}},
		"GET /v1/webhook-endpoints/{ref}":                   {{"/v1/webhook-endpoints/" + hook, "", notFound}},
		"PATCH /v1/webhook-endpoints/{ref}":                 {{"/v1/webhook-endpoints/" + hook, `{"enabled":false}`, notFound}},
		"DELETE /v1/webhook-endpoints/{ref}":                {{"/v1/webhook-endpoints/" + hook, "", notFound}},
		"POST /v1/webhook-endpoints/{ref}/rotate-secret":    {{"/v1/webhook-endpoints/" + hook + "/rotate-secret", "", notFound}},
		"GET /v1/webhook-endpoints/{ref}/deliveries":        {{"/v1/webhook-endpoints/" + hook + "/deliveries", "", notFound}},
		"POST /v1/events/{ref}/redeliver":                   {{"/v1/events/" + event + "/redeliver", "", notFound}},
		"POST /v1/webhooks/stripe":                          nil,                                               // signed by Stripe, no API key: webhooks_stripe_test.go
		"POST /v1/webhooks/stripe/{merchant}":               nil,                                               // signed by the merchant's Stripe: merchant_stripe_test.go
		"GET /healthz":                                      nil, "GET /readyz": nil, "GET /openapi.json": nil, // public, no tenant data
	}
	walk := func(method string, c call) {
		t.Helper()
		ct := ""
		if c.body != "" {
			ct = "application/json"
		}
		status, body := b.raw(method, c.path, c.body, ct)
		for _, s := range secrets {
			// a reference B sent may be echoed back ("… not found"); any other is a leak
			if strings.Contains(body, s) && !strings.Contains(c.path+c.body, s) {
				t.Errorf("%s %s: B sees A's %s: %s", method, c.path, s, body)
			}
		}
		switch c.want {
		case notFound:
			if status != 404 {
				t.Errorf("%s %s: B got %d, want 404: %s", method, c.path, status, body)
			}
		case list:
			var l struct{ Total *int }
			if status != 200 || json.Unmarshal([]byte(body), &l) != nil || l.Total == nil || *l.Total != 0 {
				t.Errorf("%s %s: B's list is not empty: %d %s", method, c.path, status, body)
			}
		case own:
			if status >= 300 {
				t.Errorf("%s %s: B got %d: %s", method, c.path, status, body)
			}
		}
	}
	// B's reads and refused writes first, then the writes that create B's own objects (which
	// may look like A's: the same email, reference or meter name)
	for _, pass := range []bool{false, true} {
		for _, route := range w.srv.Routes() {
			calls, ok := table[route]
			if !ok && !pass {
				t.Errorf("route %s is not walked by the tenant isolation test", route)
			}
			method, _, _ := strings.Cut(route, " ")
			for _, c := range calls {
				if (c.want == own) == pass {
					walk(method, c)
				}
			}
		}
	}
	// B's stats count none of A's money
	st := b.must(200, "GET", "/v1/transactions/stats", "")
	if st["total"].(float64) != 0 || st["revenue"].(float64) != 0 {
		t.Errorf("B's stats: %v", st)
	}
	// and A's objects are all still there, unchanged
	for _, path := range []string{C, P, P + L, PU, T, "/v1/meters/" + meter, "/v1/webhook-endpoints/" + hook} {
		w.must(200, "GET", path, "")
	}
	if c := w.must(200, "GET", "/v1/sdk/customers/"+a.customer, ""); c["name"] != "Jane Smith" || c["externalRef"] != "shared-ref-1" {
		t.Errorf("A's customer changed: %v", c)
	}
	if p := w.must(200, "GET", P+L, ""); p["price"].(float64) != 4900 {
		t.Errorf("A's plan changed: %v", p)
	}
	if p := w.must(200, "GET", PU, ""); p["status"] != "active" || p["cancelledAt"] != nil {
		t.Errorf("A's purchase changed: %v", p)
	}
}
