//go:build !fuzzonly

package api_test

import (
	"strings"
	"testing"
)

// TestProductsAndPlans walks seed 000's "Setting Up a Product" and seed 003's catalog rules:
// plans are embedded in products, one default plan per product.
func TestProductsAndPlans(t *testing.T) {
	w := newWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot","description":"Customer support automation"}`)
	ref := prd["reference"].(string)
	if !strings.HasPrefix(ref, "prd_") || prd["status"] != "active" || len(prd["plans"].([]any)) != 0 {
		t.Fatalf("product: %v", prd)
	}
	free := w.must(201, "POST", "/v1/products/"+ref+"/plans", `{"name":"Free","type":"free","limit":100}`)
	if !strings.HasPrefix(free["reference"].(string), "pln_") || free["isDefault"] != true || free["limit"].(float64) != 100 {
		t.Fatalf("free plan: %v", free)
	}
	pro := w.must(201, "POST", "/v1/products/"+ref+"/plans",
		`{"name":"Pro","type":"recurring","price":4900,"currency":"usd","billingCycle":"monthly","features":["priority support"]}`)
	if pro["isDefault"] != false || pro["currency"] != "USD" || pro["price"].(float64) != 4900 {
		t.Fatalf("pro plan: %v", pro)
	}
	payg := w.must(201, "POST", "/v1/products/"+ref+"/plans", `{"name":"PAYG","type":"usage-based","unitPrice":2,"meterName":"tokens"}`)
	if payg["meterName"] != "tokens" || payg["billingCycle"] != "monthly" {
		t.Fatalf("payg: %v", payg)
	}
	got := w.must(200, "GET", "/v1/products/"+ref, "")
	if len(got["plans"].([]any)) != 3 {
		t.Fatalf("embedded plans: %v", got)
	}

	// the default moves, never duplicates
	proRef := pro["reference"].(string)
	if p := w.must(200, "PATCH", "/v1/products/"+ref+"/plans/"+proRef, `{"isDefault":true,"price":5900}`); p["isDefault"] != true || p["price"].(float64) != 5900 {
		t.Fatalf("make default: %v", p)
	}
	if p := w.must(200, "GET", "/v1/products/"+ref+"/plans/"+free["reference"].(string), ""); p["isDefault"] != false {
		t.Fatalf("old default: %v", p)
	}
	if l := w.must(200, "GET", "/v1/products/"+ref+"/plans?type=recurring", ""); l["total"].(float64) != 1 {
		t.Fatalf("plans by type: %v", l)
	}
	// limit: null clears the limit
	if p := w.must(200, "PATCH", "/v1/products/"+ref+"/plans/"+free["reference"].(string), `{"limit":null}`); p["limit"] != nil {
		t.Fatalf("clear limit: %v", p)
	}
	if status, body := w.do("PATCH", "/v1/products/"+ref+"/plans/"+proRef, `{"type":"free"}`); status != 400 || errField(body) != "price" {
		t.Fatalf("free with a price: %d %v", status, body)
	}

	// a plan is found only under its own product
	other := w.must(201, "POST", "/v1/products", `{"name":"other"}`)["reference"].(string)
	w.must(404, "GET", "/v1/products/"+other+"/plans/"+proRef, "")

	// products: patch, search, delete
	if p := w.must(200, "PATCH", "/v1/products/"+ref, `{"description":"Bots"}`); p["name"] != "support-bot" || p["description"] != "Bots" {
		t.Fatalf("patch product: %v", p)
	}
	if l := w.must(200, "GET", "/v1/products?search=support", ""); l["total"].(float64) != 1 {
		t.Fatalf("search: %v", l)
	}
	w.must(200, "DELETE", "/v1/products/"+ref+"/plans/"+proRef, "")
	if p := w.must(200, "GET", "/v1/products/"+ref+"/plans/"+free["reference"].(string), ""); p["isDefault"] != true {
		t.Fatalf("default after deleting the default: %v", p)
	}
	w.must(200, "DELETE", "/v1/products/"+ref, "")
	w.must(404, "GET", "/v1/products/"+ref, "")
	if l := w.must(200, "GET", "/v1/products", ""); l["total"].(float64) != 1 {
		t.Fatalf("products after delete: %v", l)
	}
}

func TestProductBalanceAndStats(t *testing.T) {
	w := newWorld(t)
	f := w.fixture(w.env, w.merchant, "jane@acme.com")
	b := w.must(200, "GET", "/v1/products/"+f.product+"/balance", "")
	if b["revenue"].(float64) != 4900 || b["refunded"].(float64) != 2500 || b["net"].(float64) != 2400 || b["currency"] != "USD" ||
		b["payments"].(float64) != 1 || b["refunds"].(float64) != 1 {
		t.Fatalf("balance: %v", b)
	}
	empty := w.must(201, "POST", "/v1/products", `{"name":"empty"}`)["reference"].(string)
	if b := w.must(200, "GET", "/v1/products/"+empty+"/balance", ""); b["revenue"].(float64) != 0 || b["currency"] != "USD" {
		t.Fatalf("empty balance: %v", b)
	}
}

// A plan is refused when the processor could not take its charges: a one-time price below the
// minimum charge for its currency (nothing later carries it), or a usage limit at which one
// period's overage overflows (the renewal would have to refuse it). Renewing plans with small
// prices are fine: their charges carry to the next period.
func TestPlanChargesTheProcessorCanTake(t *testing.T) {
	w := newWorld(t)
	pp := "/v1/products/" + w.must(201, "POST", "/v1/products", `{"name":"x"}`)["reference"].(string) + "/plans"
	for _, body := range []string{
		`{"name":"a","type":"one-time","price":50}`,
		`{"name":"b","type":"one-time","price":20,"setupFee":10,"currency":"GBP"}`,
		`{"name":"c","type":"recurring","price":1}`,
		`{"name":"d","type":"usage-based","unitPrice":1000000000000,"limit":9000000}`,                      // 9e18: fits
		`{"name":"e","type":"usage-based","unitPrice":1000000000000,"freeUnits":1000000,"limit":10000000}`, // 9e18 beyond the free units
		`{"name":"f","type":"usage-based","unitPrice":1000000000000}`,                                      // no limit: checked at each renewal
	} {
		w.must(201, "POST", pp, body)
	}
	for body, want := range map[string][2]string{
		`{"name":"x","type":"one-time","price":49}`:                                                    {"price", "at least 50"},
		`{"name":"x","type":"one-time","price":20,"setupFee":9,"currency":"GBP"}`:                      {"price", "at least 30"},
		`{"name":"x","type":"usage-based","unitPrice":1000000000000,"limit":10000000}`:                 {"unitPrice", "lower unitPrice or limit"},
		`{"name":"x","type":"hybrid","price":1000000000000,"unitPrice":1000000000000,"limit":9223372}`: {"unitPrice", "limit 9223372"},
	} {
		status, out := w.do("POST", pp, body)
		e, _ := out["error"].(map[string]any)
		if status != 400 || e["field"] != want[0] || !strings.Contains(e["message"].(string), want[1]) {
			t.Errorf("%s: %d %v, want 400 on %s", body, status, out, want[0])
		}
	}
	if l := w.must(200, "GET", pp, ""); l["total"].(float64) != 6 {
		t.Fatalf("plans: %v", l)
	}
}
