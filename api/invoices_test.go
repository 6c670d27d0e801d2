//go:build !fuzzonly

package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
)

// The invoice of a payment and the credit note of its refund are listed and read with the
// merchant's key of their mode; the other mode's key and a bad filter get nothing.
func TestInvoicesAndCreditNotesAreListedInTheirMode(t *testing.T) {
	w := newWorld(t)
	a := w.fixture(w.env, w.merchant, "jane@acme.com")
	list := w.must(200, "GET", "/v1/invoices?status=paid&customerRef="+a.customer, "")
	if list["total"].(float64) != 1 {
		t.Fatalf("invoices: %v", list)
	}
	inv := w.must(200, "GET", "/v1/invoices/"+a.invoice, "")
	lines, _ := inv["lines"].([]any)
	if inv["number"] != "INV-"+inv["issuedAt"].(string)[:4]+"-000001" || inv["status"] != "paid" || inv["total"].(float64) != 4900 ||
		inv["transactionRef"] != a.payment || len(lines) != 1 || !strings.Contains(inv["hostedUrl"].(string), "/invoice/") ||
		inv["creditNotes"].([]any)[0] != a.creditNote {
		t.Fatalf("invoice: %v", inv)
	}
	cn := w.must(200, "GET", "/v1/credit-notes/"+a.creditNote, "")
	if cn["invoiceRef"] != a.invoice || cn["total"].(float64) != 2500 || cn["transactionRef"] != a.refund {
		t.Fatalf("credit note: %v", cn)
	}
	if l := w.must(200, "GET", "/v1/credit-notes?purchaseRef="+a.purchase, ""); l["total"].(float64) != 1 {
		t.Fatalf("credit notes: %v", l)
	}
	for _, q := range []string{"status=void", "fromDate=2001-01-01&toDate=2001-01-02", "purchaseRef=pur_nope"} {
		if l := w.must(200, "GET", "/v1/invoices?"+q, ""); l["total"].(float64) != 0 {
			t.Errorf("invoices?%s: %v", q, l)
		}
	}
	for path, field := range map[string]string{"/v1/invoices?status=paidish": "status", "/v1/credit-notes?status=paid": "status",
		"/v1/invoices?fromDate=yesterday": "fromDate", "/v1/invoices?limit=0": "limit"} {
		if status, out := w.do("GET", path, ""); status != 400 || errField(out) != field {
			t.Errorf("GET %s: %d %v, want 400 naming %s", path, status, out, field)
		}
	}

	live := w.liveKey()
	for _, path := range []string{"/v1/invoices/" + a.invoice, "/v1/credit-notes/" + a.creditNote, "/v1/invoices/in_nope"} {
		if status, out := live.do("GET", path, ""); status != 404 {
			t.Errorf("GET %s with the live key: %d %v", path, status, out)
		}
	}
	for _, path := range []string{"/v1/invoices", "/v1/credit-notes"} {
		if l := live.must(200, "GET", path, ""); l["total"].(float64) != 0 {
			t.Errorf("GET %s with the live key: %v", path, l)
		}
	}
}

// liveKey is a live key of the world's merchant A.
func (w *world) liveKey() *env {
	w.t.Helper()
	key := domain.NewSecretRef("sk_live")
	if err := w.st.AddAPIKey(context.Background(), w.merchant, key, domain.ModeLive); err != nil {
		w.t.Fatal(err)
	}
	return &env{t: w.t, srv: w.env.srv, key: key}
}
