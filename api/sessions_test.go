//go:build !fuzzonly

package api_test

import (
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
)

func TestCheckoutAndCustomerSessions(t *testing.T) {
	w := newWorld(t, func(c *api.Config) { c.PublicURL = "https://billing.example.com" })
	f := w.fixture(w.env, w.merchant, "bob@startup.io")
	cs := w.must(201, "POST", "/v1/checkout-sessions", `{"customerRef":"`+f.customer+`","productRef":"`+f.product+`","planRef":"`+f.plan+`"}`)
	if !strings.HasPrefix(cs["reference"].(string), "cs_") || cs["url"] != "https://billing.example.com/checkout/"+cs["reference"].(string) ||
		cs["status"] != "open" || cs["planRef"] != f.plan {
		t.Fatalf("checkout session: %v", cs)
	}
	// the seed's other spellings, and the default plan when planRef is omitted
	cs2 := w.must(201, "POST", "/v1/checkout-sessions", `{"customerId":"`+f.customer+`","productReference":"`+f.product+`","returnUrl":"https://app.example.com/done"}`)
	if cs2["planRef"] != f.plan || cs2["returnUrl"] != "https://app.example.com/done" {
		t.Fatalf("checkout session with aliases: %v", cs2)
	}
	ps := w.must(201, "POST", "/v1/customer-sessions", `{"customerRef":"`+f.customer+`"}`)
	if !strings.HasPrefix(ps["reference"].(string), "ps_") || ps["url"] != "https://billing.example.com/portal/"+ps["reference"].(string) {
		t.Fatalf("customer session: %v", ps)
	}
	other := w.must(201, "POST", "/v1/products", `{"name":"other"}`)["reference"].(string)
	if status, body := w.do("POST", "/v1/checkout-sessions", `{"customerRef":"`+f.customer+`","productRef":"`+other+`","planRef":"`+f.plan+`"}`); status != 400 || errField(body) != "planRef" {
		t.Fatalf("plan of another product: %d %v", status, body)
	}
	if status, body := w.do("POST", "/v1/checkout-sessions", `{"customerRef":"`+f.customer+`","productRef":"`+other+`"}`); status != 404 || errField(body) != "productRef" {
		t.Fatalf("product without plans: %d %v", status, body)
	}
	if status, body := w.do("POST", "/v1/checkout-sessions", `{"customerRef":"`+f.customer+`","customerId":"cus_other","productRef":"`+f.product+`"}`); status != 400 || errField(body) != "customerRef" {
		t.Fatalf("two spellings disagree: %d %v", status, body)
	}
}
