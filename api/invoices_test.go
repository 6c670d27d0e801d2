//go:build !fuzzonly

package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os/exec"
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
	// the list carries each invoice's lines, as the invoice itself does, with the period paid
	if listed := list["data"].([]any)[0].(map[string]any); fmt.Sprint(listed["lines"]) != fmt.Sprint(lines) ||
		lines[0].(map[string]any)["periodStart"] == nil || lines[0].(map[string]any)["periodEnd"] == nil {
		t.Fatalf("listed lines %v, the invoice's %v", listed["lines"], lines)
	}
	cn := w.must(200, "GET", "/v1/credit-notes/"+a.creditNote, "")
	if cn["invoiceRef"] != a.invoice || cn["total"].(float64) != 2500 || cn["transactionRef"] != a.refund ||
		!strings.Contains(cn["hostedUrl"].(string), "/credit-note/") {
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

// The invoice's PDF is the same bytes each time, reads back its number and totals, and follows
// the merchant's settings; settings change the numbers of invoices issued after, not before.
func TestInvoicePDFAndSettings(t *testing.T) {
	w := newWorld(t)
	a := w.fixture(w.env, w.merchant, "jane@acme.com")
	first := pdfOf(t, w.env, "/v1/invoices/"+a.invoice+"/pdf")
	if again := pdfOf(t, w.env, "/v1/invoices/"+a.invoice+"/pdf"); !bytes.Equal(first, again) {
		t.Fatal("two downloads of one invoice differ")
	}
	inv := w.must(200, "GET", "/v1/invoices/"+a.invoice, "")
	if text := pdfText(t, first); !strings.Contains(text, inv["number"].(string)) || !strings.Contains(text, "$49.00") ||
		!strings.Contains(text, "jane@acme.com") {
		t.Errorf("the PDF's text:\n%s", text)
	}
	if text := pdfText(t, pdfOf(t, w.env, "/v1/credit-notes/"+a.creditNote+"/pdf")); !strings.Contains(text, "CREDIT NOTE") ||
		!strings.Contains(text, "$25.00") || !strings.Contains(text, inv["number"].(string)) {
		t.Errorf("the credit note's text:\n%s", text)
	}

	if set := w.must(200, "GET", "/v1/settings/invoices", ""); set["prefix"] != "INV" || set["pattern"] != "<PREFIX>-<YYYY>-<000001>" ||
		set["paperSize"] != "A4" {
		t.Fatalf("default settings: %v", set)
	}
	set := w.must(200, "PATCH", "/v1/settings/invoices", `{"prefix":"ACME","pattern":"<PREFIX>/<0001>","paperSize":"Letter",
		"address":"1 Main St\nSpringfield","country":"US","taxId":"US-12-3456789","logo":"`+pngBase64(t)+`"}`)
	if set["prefix"] != "ACME" || set["hasLogo"] != true || set["country"] != "US" {
		t.Fatalf("settings: %v", set)
	}
	if again := pdfOf(t, w.env, "/v1/invoices/"+a.invoice+"/pdf"); bytes.Equal(first, again) || !strings.Contains(pdfText(t, again), inv["number"].(string)) {
		t.Error("the stored logo is not drawn, or the number changed")
	}
	later := w.fixture(w.env, w.merchant, "joe@acme.com")
	got := w.must(200, "GET", "/v1/invoices/"+later.invoice, "")
	if got["number"] != "ACME/0002" || got["paperSize"] != "Letter" || got["seller"].(map[string]any)["taxIds"] == nil {
		t.Fatalf("an invoice after the settings: %v", got)
	}
	if text := pdfText(t, pdfOf(t, w.env, "/v1/invoices/"+later.invoice+"/pdf")); !strings.Contains(text, "US-12-3456789") ||
		!strings.Contains(text, "Springfield") {
		t.Errorf("the seller's details:\n%s", text)
	}
	if set := w.must(200, "PATCH", "/v1/settings/invoices", `{"removeLogo":true}`); set["hasLogo"] != false {
		t.Fatalf("logo removed: %v", set)
	}
}

func pdfOf(t *testing.T, e *env, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("X-API-KEY", e.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("GET %s: %d %s %.200s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	return body
}

func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (apt-get install poppler-utils, or scripts/install-deps.sh)")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func pngBase64(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 4))
	for x := range 8 {
		img.Set(x, 1, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// An invoice is issued open, numbered, when the processor accepts a payment it has not settled
// (the sandbox's processing card); the same invoice is paid when the payment settles, and void —
// its number kept — when it fails. Voiding through the API is refused in words while the
// payment is processing, once paid (refund instead) and once void; another mode's key gets 404.
func TestProcessingPaymentInvoiceOpensThenPaysOrVoids(t *testing.T) {
	w := newSandboxHooksWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	invoiceOf := func(pur string) map[string]any {
		t.Helper()
		l := w.must(200, "GET", "/v1/invoices?purchaseRef="+pur, "")["data"].([]any)
		if len(l) != 1 {
			t.Fatalf("invoices of %s: %v", pur, l)
		}
		return w.must(200, "GET", "/v1/invoices/"+l[0].(map[string]any)["reference"].(string), "")
	}
	refused := func(ref, words string) {
		t.Helper()
		status, out := w.do("POST", "/v1/invoices/"+ref+"/void", "")
		er, _ := out["error"].(map[string]any)
		if msg, _ := er["message"].(string); status != 409 || er["code"] != "CONFLICT" || !strings.Contains(msg, words) {
			t.Fatalf("void %s: %d %v, want 409 saying %q", ref, status, out, words)
		}
	}
	eventOf := func(typ, ref string) map[string]any {
		t.Helper()
		l := w.must(200, "GET", "/v1/events?type="+typ+"&objectRef="+ref, "")["data"].([]any)
		if len(l) != 1 {
			t.Fatalf("%s events of %s: %v", typ, ref, l)
		}
		return l[0].(map[string]any)["object"].(map[string]any)
	}

	ok, okPay := w.sandboxPurchase("ok@acme.com", "4000 0000 0000 7726", prd, pro)
	inv := invoiceOf(ok)
	ref, number := inv["reference"].(string), inv["number"].(string)
	if inv["status"] != "open" || !strings.HasSuffix(number, "-000001") || inv["transactionRef"] != okPay || inv["total"] != 4900.0 ||
		inv["paidAt"] != nil || inv["issuedAt"] == nil {
		t.Fatalf("the invoice of a processing payment: %v", inv)
	}
	if p := invoiceOf(ok); p["status"] != "open" {
		t.Fatalf("reread: %v", p)
	}
	eventOf("invoice.created", ref)
	refused(ref, "the processor's answer decides it")
	w.must(200, "POST", "/v1/sandbox/transactions/"+okPay+"/settle", `{"outcome":"succeeded"}`)
	eventually(t, "the invoice is paid", func() bool { return invoiceOf(ok)["status"] == "paid" })
	if inv := invoiceOf(ok); inv["number"] != number || inv["reference"] != ref || inv["paidAt"] == nil {
		t.Fatalf("the paid invoice: %v", inv)
	}
	if ev := eventOf("invoice.paid", ref); ev["status"] != "paid" || ev["number"] != number {
		t.Fatalf("invoice.paid: %v", ev)
	}
	refused(ref, "a paid invoice cannot be voided; refund the payment to issue a credit note")

	bad, badPay := w.sandboxPurchase("bad@acme.com", "pm_card_sandbox_processing", prd, pro)
	badRef := invoiceOf(bad)["reference"].(string)
	w.must(200, "POST", "/v1/sandbox/transactions/"+badPay+"/settle", `{"outcome":"failed","failureCode":"insufficient_funds"}`)
	eventually(t, "the invoice is void", func() bool { return invoiceOf(bad)["status"] == "void" })
	void := invoiceOf(bad)
	if !strings.HasSuffix(void["number"].(string), "-000002") || void["voidedAt"] == nil || void["paidAt"] != nil {
		t.Fatalf("the void invoice keeps its number: %v", void)
	}
	if ev := eventOf("invoice.voided", badRef); ev["status"] != "void" || ev["number"] != void["number"] {
		t.Fatalf("invoice.voided: %v", ev)
	}
	refused(badRef, "already void")
	if l := w.must(200, "GET", "/v1/invoices?status=void", ""); l["total"] != 1.0 {
		t.Fatalf("void invoices: %v", l)
	}
	// the next invoice takes the next number: the void one's stays taken
	next, _ := w.sandboxPurchase("next@acme.com", "pm_card_visa", prd, pro)
	if inv := invoiceOf(next); inv["status"] != "paid" || !strings.HasSuffix(inv["number"].(string), "-000003") {
		t.Fatalf("the invoice after a void one: %v", inv)
	}
	if status, out := w.liveKey().do("POST", "/v1/invoices/"+ref+"/void", ""); status != 404 {
		t.Fatalf("void with the live key: %d %v", status, out)
	}
}
