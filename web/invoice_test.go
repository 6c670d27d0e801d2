package web_test

import (
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the pages render now")

// billed is the first paid period of a new active purchase of customer, issued at `at`: its
// invoice, with the payment's reference.
func (e *env) billed(customer string, amount int64, at time.Time) (domain.Invoice, string) {
	e.t.Helper()
	return e.charged(e.purchased(customer, domain.PurchaseActive, at), 1, amount, at)
}

// purchased records a purchase of the fixture's plan by customer, in the fixture's mode (sandbox
// unless e.mode says live), its first period starting at `at`.
func (e *env) purchased(customer string, status domain.PurchaseStatus, at time.Time) domain.Purchase {
	e.t.Helper()
	end := at.AddDate(0, 1, 0)
	pur := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: e.merchant, CustomerRef: customer, ProductRef: e.product.Ref,
		PlanRef: e.plan.Ref, PlanName: e.plan.Name, PlanType: e.plan.Type, BillingCycle: e.plan.BillingCycle, Amount: e.plan.Price,
		Status: status, Currency: "USD", Seq: 1, Sandbox: e.mode != domain.ModeLive, Period: 1,
		CurrentPeriodStart: &at, CurrentPeriodEnd: &end, NextBillingAt: &end}
	if status.Ended() {
		pur.NextBillingAt, pur.EndedAt = nil, &end
	}
	if _, err := e.st.UpsertPurchase(context.Background(), pur); err != nil {
		e.t.Fatal(err)
	}
	return pur
}

// charged records the payment of period of pur at `at` and answers its invoice and the
// payment's reference.
func (e *env) charged(pur domain.Purchase, period int, amount int64, at time.Time) (domain.Invoice, string) {
	e.t.Helper()
	ctx := context.Background()
	txn, _, err := e.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: e.merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: amount, Currency: "USD", PurchaseRef: pur.Ref, CustomerRef: pur.CustomerRef,
		ProductRef: pur.ProductRef, Period: period, Reason: fmt.Sprintf("%s — period %d", pur.PlanName, period),
		IdempotencyKey: fmt.Sprintf("%s/period-%d/charge", pur.Ref, period), Processor: "sandbox", OccurredAt: at})
	if err != nil {
		e.t.Fatal(err)
	}
	mode := domain.ModeOf(pur.Sandbox)
	list, _, err := e.st.ListInvoices(ctx, e.merchant, store.InvoiceFilter{Mode: mode, PurchaseRef: pur.Ref}, store.Page{Page: 1, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, inv := range list {
		if inv.TransactionRef == txn.Ref {
			inv, err := e.st.GetInvoice(ctx, e.merchant, mode, inv.Ref)
			if err != nil {
				e.t.Fatal(err)
			}
			return inv, txn.Ref
		}
	}
	e.t.Fatalf("no invoice of %s among %+v", txn.Ref, list)
	return domain.Invoice{}, ""
}

// refunded refunds amount of the payment of inv at `at` and answers its credit note.
func (e *env) refunded(inv domain.Invoice, payment string, amount int64, at time.Time) domain.CreditNote {
	e.t.Helper()
	ctx := context.Background()
	r, _, err := e.st.ReserveRefund(ctx, store.RefundReservation{MerchantRef: e.merchant, PurchaseRef: inv.PurchaseRef,
		PaymentRef: payment, Amount: amount, IdempotencyKey: "refund-" + payment, Reason: "requested_by_customer",
		Processor: "sandbox", OccurredAt: at})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.SettleRefund(ctx, e.merchant, r.Ref, "re_"+r.Ref, nil); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.st.GetInvoice(ctx, e.merchant, inv.Mode, inv.Ref)
	if err != nil || len(got.CreditNotes) == 0 {
		e.t.Fatalf("credit notes of %s: %v %+v", inv.Ref, err, got)
	}
	cn, err := e.st.GetCreditNote(ctx, e.merchant, inv.Mode, got.CreditNotes[len(got.CreditNotes)-1])
	if err != nil {
		e.t.Fatal(err)
	}
	return cn
}

// The hosted invoice page opens with its token alone (no key, no session), shows the number,
// parties, lines and total, and its download button answers the PDF; any other token is "not
// valid".
func TestHostedInvoicePage(t *testing.T) {
	e := newEnv(t, nil)
	inv, _ := e.billed(e.customer.Ref, 4900, time.Now())
	status, page := getPage(t, e.srv.URL+"/invoice/"+inv.HostedToken)
	for _, want := range []string{inv.Number, "Pro — period 1", "$49.00", "Jane Smith", "jane@acme.com", "Acme AI",
		`data-status>Paid<`, `href="/invoice/` + inv.HostedToken + `/pdf"`, "Download PDF"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Fatalf("the invoice page (%d) lacks %q:\n%s", status, want, page)
		}
	}
	if strings.Contains(page, "Credit notes") {
		t.Error("an invoice without credit notes lists some")
	}
	expectPDF(t, e.srv.URL+"/invoice/"+inv.HostedToken+"/pdf")
	for _, bad := range []string{"/invoice/" + inv.Ref, "/invoice/" + inv.HostedToken[:39], "/invoice/x/pdf"} {
		if status, page := getPage(t, e.srv.URL+bad); status != 404 || strings.Contains(page, inv.Number) {
			t.Errorf("GET %s: %d", bad, status)
		}
	}
}

// A refund's credit note has its own hosted page (its token alone, a download button, a link
// back to its invoice), and the invoice's page links it. A credit note's token opens no invoice
// and an invoice's no credit note.
func TestHostedCreditNotePage(t *testing.T) {
	e := newEnv(t, nil)
	inv, payment := e.billed(e.customer.Ref, 4900, time.Now())
	cn := e.refunded(inv, payment, 1500, time.Now())
	if cn.HostedToken == "" || cn.HostedToken == inv.HostedToken {
		t.Fatalf("credit note token %q", cn.HostedToken)
	}
	status, page := getPage(t, e.srv.URL+"/credit-note/"+cn.HostedToken)
	for _, want := range []string{"Credit note", cn.Number, inv.Number, `href="/invoice/` + inv.HostedToken + `"`, "$15.00",
		"Requested by customer", "Jane Smith", "Acme AI", `href="/credit-note/` + cn.HostedToken + `/pdf"`, "Download PDF"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Fatalf("the credit note page (%d) lacks %q:\n%s", status, want, page)
		}
	}
	expectPDF(t, e.srv.URL+"/credit-note/"+cn.HostedToken+"/pdf")

	status, page = getPage(t, e.srv.URL+"/invoice/"+inv.HostedToken)
	for _, want := range []string{"Credit notes", `href="/credit-note/` + cn.HostedToken + `"`, cn.Number, "−$15.00"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Fatalf("the invoice page (%d) lacks %q:\n%s", status, want, page)
		}
	}
	for _, bad := range []string{"/credit-note/" + cn.Ref, "/credit-note/" + inv.HostedToken, "/invoice/" + cn.HostedToken,
		"/credit-note/" + cn.HostedToken[:39] + "/pdf", "/credit-note/"} {
		if status, page := getPage(t, e.srv.URL+bad); status != 404 || strings.Contains(page, cn.Number) {
			t.Errorf("GET %s: %d", bad, status)
		}
	}
}

// The portal lists the customer's invoices and credit notes of the session's mode, newest first,
// each with its number, date, total in the currency's format and status, linking its hosted
// page and its PDF; another customer's documents and the other mode's are not listed.
func TestPortalListsInvoicesAndCreditNotes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	ps := e.portal(0)
	_, body := get(t, c, e.srv.URL+"/portal/"+ps.Ref)
	if !strings.Contains(body, "No invoices yet.") {
		t.Fatalf("a customer without invoices:\n%s", body)
	}
	march := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	pur := e.purchased(e.customer.Ref, domain.PurchaseActive, march)
	first, payment := e.charged(pur, 1, 4900, march)
	second, _ := e.charged(pur, 2, 123456, march.AddDate(0, 1, 0))
	cn := e.refunded(first, payment, 1500, march.AddDate(0, 0, 9))
	other, err := e.st.CreateCustomer(context.Background(), domain.Customer{MerchantRef: e.merchant, Email: "bob@startup.io"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := e.billed(other.Ref, 900, march)
	e.mode = domain.ModeLive
	live, _ := e.charged(e.purchased(e.customer.Ref, domain.PurchaseCancelled, march), 1, 4900, march)
	e.mode = ""

	resp, body := get(t, c, e.srv.URL+"/portal/"+ps.Ref)
	if resp.StatusCode != 200 {
		t.Fatalf("portal: %d\n%s", resp.StatusCode, body)
	}
	docs := body[strings.Index(body, `id="docs-h"`):]
	docs = docs[:strings.Index(docs, "</section>")]
	for _, want := range []string{
		"Invoice " + second.Number, "1 April 2026", "$1,234.56",
		"Credit note " + cn.Number, "10 March 2026", "Credit note for " + first.Number, "−$15.00", "Credited",
		"Invoice " + first.Number, "1 March 2026", "$49.00", `class="badge ok">Paid<`,
		`href="/invoice/` + first.HostedToken + `"`, `href="/invoice/` + first.HostedToken + `/pdf"`,
		`href="/credit-note/` + cn.HostedToken + `"`, `href="/credit-note/` + cn.HostedToken + `/pdf"`,
	} {
		if !strings.Contains(docs, want) {
			t.Errorf("the portal's invoices lack %q:\n%s", want, docs)
		}
	}
	if i, j, k := strings.Index(docs, second.Number+"<"), strings.Index(docs, cn.Number+"<"), strings.Index(docs, first.Number+"<"); !(i < j && j < k) {
		t.Errorf("not newest first (%d, %d, %d):\n%s", i, j, k, docs)
	}
	for _, inv := range []domain.Invoice{theirs, live} {
		if strings.Contains(body, inv.HostedToken) {
			t.Errorf("the portal lists %s (%s, customer %s)", inv.Number, inv.Mode, inv.CustomerRef)
		}
	}
	// Each link opens: the hosted page and the download.
	if status, page := getPage(t, e.srv.URL+"/invoice/"+second.HostedToken); status != 200 || !strings.Contains(page, "$1,234.56") {
		t.Errorf("the invoice link: %d", status)
	}
	expectPDF(t, e.srv.URL+"/credit-note/"+cn.HostedToken+"/pdf")
}

// expectPDF downloads url and fails unless it is a PDF attachment.
func expectPDF(t *testing.T, url string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("the PDF download %s: %d %s %s", url, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
}

// goldenDocuments issues, for the fixture's customer with a legal name, an address and a VAT
// ID, an invoice on 1 March 2026 and its partial refund on 10 March, and pins everything that
// would vary between runs (tokens), so a page renders the same bytes every time. It answers
// the invoice page's and the credit note page's paths.
func goldenDocuments(t *testing.T, e *env) (string, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.st.Pool.Exec(ctx, `UPDATE merchants SET legal_name = 'Acme AI GmbH' WHERE id = $1`, e.merchant); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool.Exec(ctx, `INSERT INTO invoice_settings (merchant_id, address, country, tax_id)
		VALUES ($1, E'Friedrichstraße 68\n10117 Berlin\nGermany', 'DE', 'DE123456789')`, e.merchant); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool.Exec(ctx, `UPDATE customers SET organization = $2 WHERE id = $1`, e.customer.Ref,
		`{"legal_name": "Smith & Daughters Ltd", "tax_ids": [{"type": "EU_VAT", "id": "IE6388047V"}],
		  "registered_address": {"line1": "1 Grand Canal Square", "city": "Dublin", "postal_code": "D02 P820", "country": "IE"}}`); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	inv, payment := e.billed(e.customer.Ref, 4900, issued)
	cn := e.refunded(inv, payment, 1500, issued.AddDate(0, 0, 9))
	const invToken, cnToken = "GoldenInvoiceToken0000000000000000000001", "GoldenCreditNoteToken0000000000000000001"
	if _, err := e.st.Pool.Exec(ctx, `UPDATE invoices SET token = $2 WHERE id = $1`, inv.Ref, invToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool.Exec(ctx, `UPDATE credit_notes SET token = $2 WHERE id = $1`, cn.Ref, cnToken); err != nil {
		t.Fatal(err)
	}
	return "/invoice/" + invToken, "/credit-note/" + cnToken
}

// The hosted invoice and credit note pages, rendered from fixed documents, are byte for byte
// the golden files in testdata/ (go test ./web -run TestDocumentPagesGolden -update rewrites
// them after a deliberate change; review the diff).
func TestDocumentPagesGolden(t *testing.T) {
	e := newEnv(t, nil)
	invoicePath, creditNotePath := goldenDocuments(t, e)
	for _, c := range []struct{ path, golden string }{
		{invoicePath, "invoice_page.golden"}, {creditNotePath, "credit_note_page.golden"}} {
		status, page := getPage(t, e.srv.URL+c.path)
		if status != 200 {
			t.Fatalf("GET %s: %d\n%s", c.path, status, page)
		}
		file := filepath.Join("testdata", c.golden)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if page != string(want) {
			t.Errorf("%s differs from %s (run with -update after a deliberate change):\n%s", c.path, file, firstDifference(string(want), page))
		}
	}
}

// firstDifference shows the first line where got departs from want.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, wl, gl)
		}
	}
	return ""
}

func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A taxed invoice's hosted page says how its tax was rounded, in the words its PDF prints
// (domain.TaxRoundingNote); an untaxed one says nothing of rounding. A void invoice's page shows
// it void, with the date, and its number kept.
func TestHostedInvoicePageRoundingNoteAndVoid(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	note := html.EscapeString(domain.TaxRoundingNote)
	plain, _ := e.billed(e.customer.Ref, 4900, time.Now())
	if _, page := getPage(t, e.srv.URL+"/invoice/"+plain.HostedToken); strings.Contains(page, "rounded") {
		t.Errorf("an untaxed invoice speaks of rounding:\n%s", page)
	}

	customer := func(email string) string {
		t.Helper()
		c, err := e.st.CreateCustomer(ctx, domain.Customer{MerchantRef: e.merchant, Email: email})
		if err != nil {
			t.Fatal(err)
		}
		return c.Ref
	}
	berlin := customer("jane@berlin.de")
	if _, err := e.st.Pool.Exec(ctx, `UPDATE customers SET organization = '{"legal_name":"Jane GmbH","registered_address":{"country":"DE"}}'
		WHERE id = $1`, berlin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateTaxRate(ctx, domain.TaxRate{MerchantRef: e.merchant, Mode: domain.ModeSandbox, Name: "VAT",
		BasisPoints: 1900, Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	pur := e.purchased(berlin, domain.PurchaseActive, time.Now())
	tax, err := e.st.ChargeTax(ctx, store.ChargeTaxInput{MerchantRef: e.merchant, Mode: domain.ModeSandbox, CustomerRef: berlin,
		IdempotencyKey: pur.Ref + "/period-1/charge", Amount: 4900})
	if err != nil || tax.Total != 5831 {
		t.Fatalf("tax: %v %+v", err, tax)
	}
	taxed, _ := e.charged(pur, 1, tax.Total, time.Now())
	_, page := getPage(t, e.srv.URL+"/invoice/"+taxed.HostedToken)
	for _, want := range []string{"VAT 19%", "$9.31", "$58.31", `data-rounding-note>` + note + `<`} {
		if !strings.Contains(page, want) {
			t.Errorf("the taxed invoice's page lacks %q:\n%s", want, page)
		}
	}

	slow := e.purchased(customer("slow@bank.example"), domain.PurchaseActive, time.Now())
	txn, _, err := e.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: e.merchant, Kind: domain.TxnPayment,
		Status: domain.TxnPending, Amount: 900, Currency: "USD", PurchaseRef: slow.Ref, CustomerRef: slow.CustomerRef,
		Period: 1, Reason: "Pro — period 1", IdempotencyKey: slow.Ref + "/period-1/charge", Processor: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SettleTransaction(ctx, e.merchant, txn.Ref, domain.TxnFailed, "card_declined"); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.st.ListInvoices(ctx, e.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: slow.Ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("invoices of the failed payment: %v %+v", err, list)
	}
	_, page = getPage(t, e.srv.URL+"/invoice/"+list[0].HostedToken)
	for _, want := range []string{list[0].Number, `data-status>Void<`, "<dt>Voided</dt><dd>" + documentDay(*list[0].VoidedAt) + "<"} {
		if !strings.Contains(page, want) {
			t.Errorf("the void invoice's page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<dt>Paid</dt>") {
		t.Errorf("a void invoice's page shows a payment date:\n%s", page)
	}
}

func documentDay(t time.Time) string { return t.UTC().Format("2 January 2006") }
