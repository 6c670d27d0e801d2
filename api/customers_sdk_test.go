//go:build !fuzzonly

package api_test

import (
	"strings"
	"sync"
	"testing"
)

// TestSDKCustomerAdoptionRule is seed 003's rule: POST with an existing email and an externalRef
// links the externalRef onto the existing customer; without externalRef it is 409.
func TestSDKCustomerAdoptionRule(t *testing.T) {
	w := newWorld(t)
	c := w.must(201, "POST", "/v1/sdk/customers", `{"email":"jane@acme.com","name":"Jane Smith"}`)
	ref := c["reference"].(string)
	if !strings.HasPrefix(ref, "cus_") || c["externalRef"] != nil || c["email"] != "jane@acme.com" || c["name"] != "Jane Smith" {
		t.Fatalf("created %v", c)
	}

	status, dup := w.do("POST", "/v1/sdk/customers", `{"email":"JANE@acme.com"}`)
	if status != 409 || errCode(dup) != "RESOURCE_ALREADY_EXISTS" || errField(dup) != "email" {
		t.Fatalf("duplicate email without externalRef: %d %v", status, dup)
	}

	adopted := w.must(200, "POST", "/v1/sdk/customers", `{"email":"jane@acme.com","externalRef":"auth_user_12345"}`)
	if adopted["reference"] != ref || adopted["externalRef"] != "auth_user_12345" {
		t.Fatalf("adopt: %v", adopted)
	}
	// the same call again is idempotent
	if again := w.must(200, "POST", "/v1/sdk/customers", `{"email":"jane@acme.com","externalRef":"auth_user_12345"}`); again["reference"] != ref {
		t.Fatalf("adopt again: %v", again)
	}
	// another identity for the same email is refused, as is the externalRef on another email
	if status, body := w.do("POST", "/v1/sdk/customers", `{"email":"jane@acme.com","externalRef":"someone_else"}`); status != 409 || errField(body) != "email" {
		t.Fatalf("second identity: %d %v", status, body)
	}
	if status, body := w.do("POST", "/v1/sdk/customers", `{"email":"other@acme.com","externalRef":"auth_user_12345"}`); status != 409 || errField(body) != "externalRef" {
		t.Fatalf("taken externalRef: %d %v", status, body)
	}
	// the admin face sees the same customer with the externalRef as its reference
	if admin := w.must(200, "GET", "/v1/customers/auth_user_12345", ""); admin["id"] != ref || admin["reference"] != "auth_user_12345" {
		t.Fatalf("admin face: %v", admin)
	}
	if l := w.must(200, "GET", "/v1/sdk/customers", ""); l["total"].(float64) != 1 {
		t.Fatalf("customers: %v", l)
	}
}

// TestEnsureCustomerIsIdempotent: ensure_customer returns the existing customer, never a duplicate,
// even when many calls race.
func TestEnsureCustomerIsIdempotent(t *testing.T) {
	w := newWorld(t)
	first := w.must(201, "POST", "/v1/sdk/customers/ensure", `{"email":"bob@startup.io","name":"Bob"}`)
	second := w.must(200, "POST", "/v1/sdk/customers/ensure", `{"email":"bob@startup.io","name":"Bob"}`)
	if first["reference"] != second["reference"] {
		t.Fatalf("ensure created a duplicate: %v %v", first, second)
	}
	// with an externalRef: found by it, or adopted by email
	third := w.must(200, "POST", "/v1/sdk/customers/ensure", `{"email":"bob@startup.io","externalRef":"user_123"}`)
	if third["reference"] != first["reference"] || third["externalRef"] != "user_123" {
		t.Fatalf("ensure with externalRef: %v", third)
	}
	w.must(200, "POST", "/v1/sdk/customers/ensure", `{"email":"bob@startup.io","externalRef":"user_123"}`)

	var wg sync.WaitGroup
	refs := make([]any, 8)
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body := w.do("POST", "/v1/sdk/customers/ensure", `{"email":"race@startup.io"}`)
			refs[i] = body["reference"]
		}()
	}
	wg.Wait()
	for _, r := range refs {
		if r == nil || r != refs[0] {
			t.Fatalf("racing ensures answered %v", refs)
		}
	}
	if l := w.must(200, "GET", "/v1/sdk/customers?search=startup.io", ""); l["total"].(float64) != 2 {
		t.Fatalf("customers after ensures: %v", l)
	}
}

func TestSDKCustomerPatchGetListDelete(t *testing.T) {
	w := newWorld(t)
	ref := w.must(201, "POST", "/v1/sdk/customers", `{"email":"a@acme.com","name":"Ann","metadata":{"plan":"x"}}`)["reference"].(string)
	w.must(201, "POST", "/v1/sdk/customers", `{"email":"b@acme.com","name":"Ben"}`)

	p := w.must(200, "PATCH", "/v1/sdk/customers/"+ref, `{"externalRef":"auth_user_12345"}`)
	if p["externalRef"] != "auth_user_12345" || p["name"] != "Ann" || p["email"] != "a@acme.com" || p["metadata"].(map[string]any)["plan"] != "x" {
		t.Fatalf("patch changed more than externalRef: %v", p)
	}
	if status, body := w.do("PATCH", "/v1/sdk/customers/"+ref, `{"email":"b@acme.com"}`); status != 409 || errField(body) != "email" {
		t.Fatalf("patch to a taken email: %d %v", status, body)
	}
	if g := w.must(200, "GET", "/v1/sdk/customers/auth_user_12345", ""); g["reference"] != ref {
		t.Fatalf("get by externalRef: %v", g)
	}
	for q, want := range map[string]float64{"search=ann": 1, "search=acme": 2, "email=B@ACME.COM": 1, "externalRef=auth_user_12345": 1, "search=no-such": 0} {
		if l := w.must(200, "GET", "/v1/sdk/customers?"+q, ""); l["total"].(float64) != want {
			t.Errorf("list %s: %v", q, l)
		}
	}
	l := w.must(200, "GET", "/v1/sdk/customers?limit=1&page=2", "")
	links := l["links"].(map[string]any)
	if len(l["data"].([]any)) != 1 || links["previous"] == nil || links["next"] != nil || !strings.Contains(links["current"].(string), "page=2&limit=1") {
		t.Fatalf("page 2: %v", l)
	}
	if d := w.must(200, "DELETE", "/v1/sdk/customers/"+ref, ""); d["deleted"] != true || d["reference"] != ref {
		t.Fatalf("delete: %v", d)
	}
	w.must(404, "GET", "/v1/sdk/customers/"+ref, "")
	// the email is free again once its customer is deleted
	w.must(201, "POST", "/v1/sdk/customers", `{"email":"a@acme.com"}`)
}

func TestDeleteCustomerWithLivePurchaseIsRefused(t *testing.T) {
	w := newWorld(t)
	f := w.fixture(w.env, w.merchant, "jane@acme.com")
	status, body := w.do("DELETE", "/v1/sdk/customers/"+f.customer, "")
	if status != 409 || errCode(body) != "CONFLICT" {
		t.Fatalf("delete billed customer: %d %v", status, body)
	}
}

func TestPaymentMethod(t *testing.T) {
	w := newWorld(t)
	ref := w.must(201, "POST", "/v1/sdk/customers", `{"email":"a@acme.com"}`)["reference"].(string)
	if pm := w.must(200, "GET", "/v1/sdk/payment-method?customerRef="+ref, ""); pm["kind"] != "none" {
		t.Fatalf("before: %v", pm)
	}
	if status, body := w.do("POST", "/v1/customers/"+ref+"/payment-method", `{"paymentMethod":"pm_card_chargeDeclined"}`); status != 402 || errField(body) != "paymentMethod" {
		t.Fatalf("declining card: %d %v", status, body)
	}
	if status, body := w.do("POST", "/v1/customers/"+ref+"/payment-method", `{"paymentMethod":"pm_nope"}`); status != 400 || errField(body) != "paymentMethod" {
		t.Fatalf("unknown payment method: %d %v", status, body)
	}
	card := w.must(200, "POST", "/v1/customers/"+ref+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	if card["kind"] != "card" || card["brand"] != "visa" || card["last4"] != "4242" {
		t.Fatalf("attach: %v", card)
	}
	pm := w.must(200, "GET", "/v1/sdk/payment-method?customerId="+ref, "")
	if pm["kind"] != "card" || pm["last4"] != "4242" || pm["expMonth"] == nil || pm["expYear"] == nil {
		t.Fatalf("after: %v", pm)
	}
	if status, body := w.do("GET", "/v1/sdk/payment-method", ""); status != 400 || errField(body) != "customerRef" {
		t.Fatalf("missing customerRef: %d %v", status, body)
	}
}

func TestSDKMerchantAndPlatformConfig(t *testing.T) {
	w := newWorld(t)
	m := w.must(200, "GET", "/v1/sdk/merchant", "")
	if m["name"] != "Acme" || m["legalName"] != "Acme" || !strings.HasPrefix(m["reference"].(string), "mer_") {
		t.Fatalf("merchant: %v", m)
	}
	for _, k := range []string{"supportContact", "termsUrl", "privacyUrl", "iconUrl", "logoUrl"} {
		if _, ok := m[k]; !ok {
			t.Errorf("merchant lacks %s: %v", k, m)
		}
	}
	if pc := w.must(200, "GET", "/v1/sdk/platform-config", ""); pc["mode"] != "sandbox" || pc["processor"] != "sandbox" || pc["defaultCurrency"] != "USD" {
		t.Fatalf("platform config: %v", pc)
	}
}

// TestSDKCreateFillsTheEmailOfAnAdminCustomer: a customer made on the admin face with only a
// reference is the same customer when the SDK later sends that externalRef with an email.
func TestSDKCreateFillsTheEmailOfAnAdminCustomer(t *testing.T) {
	w := newWorld(t)
	id := w.must(201, "POST", "/v1/customers", `{"reference":"superstore-001"}`)["id"]
	c := w.must(200, "POST", "/v1/sdk/customers", `{"email":"invoices@superstore.de","externalRef":"superstore-001"}`)
	if c["reference"] != id || c["email"] != "invoices@superstore.de" {
		t.Fatalf("adopted: %v", c)
	}
}
