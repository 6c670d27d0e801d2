//go:build !fuzzonly

package api_test

import (
	"os"
	"strings"
	"testing"
)

// Tax rates per merchant and mode; the customer's registered country picks the rate. A German
// business is charged 49.00 + 19 % VAT = 58.31 and its invoice and PDF say so; a German business
// with a German VAT ID, bought from a Dutch merchant, gets the reverse-charge note and no tax.
// An archived rate no longer applies and stays readable; the live key sees none of the sandbox's.
func TestTaxRatesAndTaxedInvoices(t *testing.T) {
	w := newLifecycleWorld(t)
	w.must(200, "PATCH", "/v1/settings/invoices", `{"country":"NL","taxId":"NL123456789B01","address":"Keizersgracht 1\n1015 CJ Amsterdam"}`)
	rate := w.must(201, "POST", "/v1/tax-rates", `{"name":"VAT","percentage":"19","country":"DE"}`)
	if rate["percentage"] != "19" || rate["basisPoints"].(float64) != 1900 || rate["inclusive"] != false || rate["active"] != true ||
		rate["mode"] != "sandbox" {
		t.Fatalf("rate: %v", rate)
	}
	if r := w.must(201, "POST", "/v1/tax-rates", `{"name":"TVA","percentage":5.5,"country":"FR","inclusive":true}`); r["basisPoints"].(float64) != 550 ||
		r["percentage"] != "5.5" {
		t.Fatalf("a rate sent as a number: %v", r)
	}
	if l := w.must(200, "GET", "/v1/tax-rates", ""); l["total"].(float64) != 2 {
		t.Fatalf("list: %v", l)
	}
	if l := w.liveKey().must(200, "GET", "/v1/tax-rates", ""); l["total"].(float64) != 0 {
		t.Fatalf("the live key sees the sandbox's rates: %v", l)
	}

	buy := func(email, taxIDs string) map[string]any {
		t.Helper()
		cus := w.must(201, "POST", "/v1/customers", `{"email":"`+email+`","type":"ORGANIZATION","organization":{
			"legal_name":"SuperStore GmbH","tax_ids":`+taxIDs+`,
			"registered_address":{"line1":"Hasengarten 14","city":"Berlin","postal_code":"79341","state":"","country":"DE"}}}`)["id"].(string)
		w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot `+email+`"}`)["reference"].(string)
		pln := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"EUR"}`)["reference"].(string)
		w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
		list := w.must(200, "GET", "/v1/invoices?customerRef="+cus, "")["data"].([]any)
		if len(list) != 1 {
			t.Fatalf("invoices of %s: %v", cus, list)
		}
		return w.must(200, "GET", "/v1/invoices/"+list[0].(map[string]any)["reference"].(string), "")
	}
	taxed := buy("books@superstore.de", `[{"id":"368807022","type":"GENERIC_TAX_ID"}]`)
	line := taxed["lines"].([]any)[0].(map[string]any)
	if taxed["subtotal"].(float64) != 4900 || taxed["tax"].(float64) != 931 || taxed["total"].(float64) != 5831 ||
		line["taxName"] != "VAT" || line["taxRateBasisPoints"].(float64) != 1900 || line["tax"].(float64) != 931 {
		t.Fatalf("taxed invoice: %v", taxed)
	}
	pay := w.must(200, "GET", "/v1/transactions/"+taxed["transactionRef"].(string), "")
	if pay["amount"].(float64) != 5831 {
		t.Fatalf("the ledger charged %v, the invoice totals 5831", pay["amount"])
	}
	text := pdfText(t, pdfOf(t, w.env, "/v1/invoices/"+taxed["reference"].(string)+"/pdf"))
	for _, want := range []string{taxed["number"].(string), "€49.00", "VAT 19%", "€9.31", "€58.31", "368807022", "NL123456789B01",
		"rounded half up"} {
		if !strings.Contains(text, want) {
			t.Errorf("the taxed PDF lacks %q:\n%s", want, text)
		}
	}
	writeSample(t, "taxed", text)

	reverse := buy("eu@superstore.de", `[{"id":"DE811907980","type":"EU_VAT"}]`)
	if reverse["subtotal"].(float64) != 4900 || reverse["tax"].(float64) != 0 || reverse["total"].(float64) != 4900 ||
		!strings.Contains(reverse["taxNote"].(string), "Reverse charge: VAT to be accounted for by the recipient") {
		t.Fatalf("reverse-charge invoice: %v", reverse)
	}
	text = pdfText(t, pdfOf(t, w.env, "/v1/invoices/"+reverse["reference"].(string)+"/pdf"))
	for _, want := range []string{"Reverse charge: VAT to be accounted for by the recipient", "Article 196", "DE811907980",
		"NL123456789B01", "€49.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the reverse-charge PDF lacks %q:\n%s", want, text)
		}
	}
	writeSample(t, "reverse-charge", text)

	archived := w.must(200, "POST", "/v1/tax-rates/"+rate["reference"].(string)+"/archive", "")
	if archived["active"] != false || archived["archivedAt"] == nil {
		t.Fatalf("archived: %v", archived)
	}
	if l := w.must(200, "GET", "/v1/tax-rates?active=true", ""); l["total"].(float64) != 1 {
		t.Fatalf("active rates after archiving: %v", l)
	}
	untaxed := buy("later@superstore.de", `[]`)
	if untaxed["tax"].(float64) != 0 || untaxed["total"].(float64) != 4900 || untaxed["taxNote"] != nil {
		t.Fatalf("no active rate for DE, no tax: %v", untaxed)
	}
	if again := w.must(200, "GET", "/v1/invoices/"+taxed["reference"].(string), ""); again["tax"].(float64) != 931 {
		t.Fatalf("an archived rate changed an invoice: %v", again)
	}
}

// writeSample keeps a document's text for a reader when TOLLGATE_SAMPLES names a directory.
func writeSample(t *testing.T, name, text string) {
	if dir := os.Getenv("TOLLGATE_SAMPLES"); dir != "" {
		if err := os.WriteFile(dir+"/"+name+".txt", []byte(text), 0o644); err != nil {
			t.Log(err)
		}
	}
}
