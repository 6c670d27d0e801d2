package pdf

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

func sample() domain.Invoice {
	issued := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	start, end := issued, issued.AddDate(0, 1, 0)
	return domain.Invoice{Ref: "in_1", Mode: domain.ModeLive, Number: "INV-2026-000042", Status: domain.InvoicePaid,
		TransactionRef: "txn_abc", PurchaseRef: "pur_xyz", Currency: "EUR", Subtotal: 4900, Tax: 931, Total: 5831,
		Lines: []domain.InvoiceLine{{Description: "Pro — period 3", Period: 3, PeriodStart: &start, PeriodEnd: &end,
			Quantity: 1, UnitAmount: 4900, Amount: 4900, TaxRateBP: 1900, Tax: 931}},
		Seller: domain.Party{Name: "Acme Tools B.V.", AddressLines: []string{"Keizersgracht 1", "1015 CJ Amsterdam", "NL"},
			TaxIDs: []domain.TaxID{{ID: "NL123456789B01"}}, SupportContact: "billing@acme.example"},
		Buyer: domain.Party{Name: "SuperStore GmbH", Email: "invoices@superstore.de",
			AddressLines: []string{"Hasengarten 14", "79341 Berlin", "DE"}, Country: "DE",
			TaxIDs: []domain.TaxID{{ID: "368807022", Type: "GENERIC_TAX_ID"}}},
		PaperSize: "A4", IssuedAt: &issued, PaidAt: &issued}
}

// The same invoice renders to the same bytes, on A4 and on Letter, with a logo and without.
func TestRenderingIsDeterministic(t *testing.T) {
	logo := testLogo(t)
	for _, paper := range []string{"A4", "Letter"} {
		inv := sample()
		inv.PaperSize = paper
		a, err := Invoice(inv, logo)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // a clock read anywhere would show in the second rendering
		b, err := Invoice(inv, logo)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || !bytes.HasPrefix(a, []byte("%PDF-")) {
			t.Fatalf("%s: two renderings differ (%d and %d bytes)", paper, len(a), len(b))
		}
		if !bytes.Contains(a, []byte("/CreationDate (D:20261130091500")) {
			t.Errorf("%s: the creation date is not the issue date", paper)
		}
	}
}

// The PDF's text, as pdftotext reads it, holds the number, the line, the totals in the
// currency's format, both parties' tax IDs and the reverse-charge note; the paper is the
// merchant's.
func TestInvoiceTextReadsBack(t *testing.T) {
	inv := sample()
	inv.TaxNote = "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."
	inv.PaperSize = "Letter"
	doc, err := Invoice(inv, testLogo(t))
	if err != nil {
		t.Fatal(err)
	}
	text, info := pdftotext(t, doc)
	for _, want := range []string{"INVOICE", "INV-2026-000042", "Pro — period 3", "30 Nov 2026 - 30 Dec 2026", "€49.00",
		"Tax 19%", "€9.31", "€58.31", "Amount paid", "NL123456789B01", "368807022", "SuperStore GmbH", "Hasengarten 14",
		"Acme Tools B.V.", "Reverse charge", "billing@acme.example", "30 November 2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(info, "612 x 792 pts (letter)") {
		t.Errorf("not on Letter paper: %s", info)
	}
	inv.PaperSize, inv.Currency, inv.Subtotal, inv.Tax, inv.Total = "A4", "JPY", 1200, 0, 1200
	inv.Lines[0].UnitAmount, inv.Lines[0].Amount, inv.Lines[0].Tax, inv.Lines[0].TaxRateBP = 1200, 1200, 0, 0
	doc, err = Invoice(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text, info = pdftotext(t, doc); !strings.Contains(text, "¥1,200") || strings.Contains(text, "¥1,200.00") ||
		!strings.Contains(info, "(A4)") {
		t.Errorf("a yen invoice on A4: %s\n%s", info, text)
	}
	cn := domain.CreditNote{Number: "INV-CN-2026-000001", Mode: domain.ModeLive, Currency: "JPY", Subtotal: 500, Total: 500,
		Reason: "requested_by_customer", TransactionRef: "txn_r", IssuedAt: *inv.IssuedAt}
	doc, err = CreditNote(cn, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ = pdftotext(t, doc); !strings.Contains(text, "CREDIT NOTE") || !strings.Contains(text, "INV-CN-2026-000001") ||
		!strings.Contains(text, "Refund of invoice INV-2026-000042") || !strings.Contains(text, "¥500") {
		t.Errorf("credit note text:\n%s", text)
	}
}

func pdftotext(t *testing.T, doc []byte) (text, info string) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (apt-get install poppler-utils, or scripts/install-deps.sh)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	meta, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v %s", err, meta)
	}
	return string(out), string(meta)
}

func testLogo(t *testing.T) *Logo {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		for y := range 20 {
			img.Set(x, y, color.RGBA{R: uint8(x * 6), G: 80, B: 160, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return &Logo{Bytes: buf.Bytes(), Type: "png"}
}

// An invoice names the credit notes issued against it by their numbers, as the customer knows
// them (not Tollgate's cn_ references); a void invoice says so and when.
func TestInvoiceNamesItsCreditNotesByNumber(t *testing.T) {
	inv := sample()
	inv.CreditNotes = []string{"cn_7Hq2", "cn_9Zx1"}
	inv.CreditNoteNumbers = []string{"INV-CN-2026-000003", "INV-CN-2026-000004"}
	doc, err := Invoice(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := pdftotext(t, doc)
	if !strings.Contains(text, "Credited by credit note(s) INV-CN-2026-000003, INV-CN-2026-000004.") || strings.Contains(text, "cn_") {
		t.Errorf("the credit notes on the invoice:\n%s", text)
	}
	voided := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	inv = sample()
	inv.Status, inv.PaidAt, inv.VoidedAt = domain.InvoiceVoid, nil, &voided
	if doc, err = Invoice(inv, nil); err != nil {
		t.Fatal(err)
	}
	if text, _ = pdftotext(t, doc); !strings.Contains(text, "VOID") || !strings.Contains(text, "Voided on") ||
		!strings.Contains(text, "2 December 2026") || strings.Contains(text, "Amount paid") {
		t.Errorf("a void invoice:\n%s", text)
	}
}
