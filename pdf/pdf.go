// Package pdf renders invoices and credit notes as PDF in-process (go-pdf/fpdf, pure Go: no
// browser or side service on the path). Rendering is deterministic — the same document gives
// the same bytes — because nothing in it comes from the clock or a random source: the PDF's
// creation date is the document's issue date, and its catalog is written in sorted order.
//
// Text is set in the PDF core font Helvetica with the Windows-1252 encoding, which covers
// Western European names and addresses (ä, ß, é, €, —); a character outside it prints as "?".
// Amounts are formatted by bojanz/currency (CLDR): the currency's symbol and its minor digits.
package pdf

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bojanz/currency"
	"github.com/go-pdf/fpdf"

	"github.com/tollgate-billing/tollgate/domain"
)

// Logo is the seller's stored logo image.
type Logo struct {
	Bytes []byte
	Type  string // png or jpg
}

// LogoStore is where merchants' logos are kept (store.Store).
type LogoStore interface {
	InvoiceLogo(ctx context.Context, merchant string) ([]byte, string, error)
}

// MerchantLogo is the merchant's stored logo, nil when it has none: the API's and the hosted
// pages' documents carry the same one, so they are the same bytes.
func MerchantLogo(ctx context.Context, st LogoStore, merchant string) (*Logo, error) {
	b, typ, err := st.InvoiceLogo(ctx, merchant)
	if err != nil || b == nil {
		return nil, err
	}
	return &Logo{Bytes: b, Type: typ}, nil
}

// document is what an invoice and a credit note have in common on paper.
type document struct {
	title, number     string
	facts             [][2]string // label, value under the number
	seller, buyer     domain.Party
	currency          string
	lines             []domain.InvoiceLine
	subtotal, tax     int64
	total             int64
	taxLabel, taxNote string
	paidLabel         string
	notes             []string
	issued            time.Time
	paper             string
	sandbox           bool
}

// Invoice renders an invoice.
func Invoice(inv domain.Invoice, logo *Logo) ([]byte, error) {
	d := document{title: "INVOICE", number: inv.Number, seller: inv.Seller, buyer: inv.Buyer, currency: inv.Currency,
		lines: inv.Lines, subtotal: inv.Subtotal, tax: inv.Tax, total: inv.Total, taxNote: inv.TaxNote, paper: inv.PaperSize,
		sandbox: inv.Mode == domain.ModeSandbox, taxLabel: domain.TaxLabel(inv.Lines), notes: taxNotes(inv.Tax)}
	if inv.IssuedAt != nil {
		d.issued = *inv.IssuedAt
	}
	d.facts = append(d.facts, [2]string{"Issue date", date(d.issued)}, [2]string{"Status", strings.ToUpper(inv.Status)})
	if inv.PaidAt != nil && inv.Status == domain.InvoicePaid {
		d.facts = append(d.facts, [2]string{"Paid on", date(*inv.PaidAt)})
		d.paidLabel = "Amount paid"
	}
	if inv.VoidedAt != nil && inv.Status == domain.InvoiceVoid {
		d.facts = append(d.facts, [2]string{"Voided on", date(*inv.VoidedAt)})
	}
	d.facts = append(d.facts, [2]string{"Payment", inv.TransactionRef})
	if inv.PurchaseRef != "" {
		d.facts = append(d.facts, [2]string{"Subscription", inv.PurchaseRef})
	}
	if len(inv.CreditNoteNumbers) > 0 {
		d.notes = append(d.notes, "Credited by credit note(s) "+strings.Join(inv.CreditNoteNumbers, ", ")+".")
	}
	return render(d, logo)
}

// CreditNote renders a credit note of inv.
func CreditNote(cn domain.CreditNote, inv domain.Invoice, logo *Logo) ([]byte, error) {
	d := document{title: "CREDIT NOTE", number: cn.Number, seller: inv.Seller, buyer: inv.Buyer, currency: cn.Currency,
		lines: []domain.InvoiceLine{{Description: "Refund of invoice " + inv.Number + reason(cn.Reason), Quantity: 1,
			UnitAmount: cn.Subtotal, Amount: cn.Subtotal, Tax: cn.Tax}},
		subtotal: cn.Subtotal, tax: cn.Tax, total: cn.Total, taxNote: inv.TaxNote, paper: inv.PaperSize, issued: cn.IssuedAt,
		sandbox: cn.Mode == domain.ModeSandbox, paidLabel: "Amount refunded", taxLabel: domain.TaxLabel(inv.Lines),
		notes: taxNotes(cn.Tax)}
	d.facts = [][2]string{{"Issue date", date(cn.IssuedAt)}, {"Invoice", inv.Number}, {"Refund", cn.TransactionRef}}
	return render(d, logo)
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " (" + strings.ReplaceAll(r, "_", " ") + ")"
}

// taxNotes are a document's notes on its tax: how it was rounded, when there is any (why there
// is none, the reverse charge, is the invoice's TaxNote).
func taxNotes(tax int64) []string {
	if tax == 0 {
		return nil
	}
	return []string{domain.TaxRoundingNote}
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

var formatter = currency.NewFormatter(currency.NewLocale("en"))

// money formats minor units of a currency: 4900 USD → "$49.00", 1200 JPY → "¥1,200".
func money(amount int64, code string) string {
	a, err := currency.NewAmountFromInt64(amount, code)
	if err != nil { // a code CLDR does not know: the digits as the ledger has them
		return fmt.Sprintf("%d %s", amount, code)
	}
	return formatter.Format(a)
}

func render(d document, logo *Logo) ([]byte, error) {
	size := "A4"
	if d.paper == "Letter" {
		size = "Letter"
	}
	f := fpdf.New("P", "mm", size, "")
	f.SetCatalogSort(true)
	f.SetCreationDate(d.issued.UTC())
	f.SetModificationDate(d.issued.UTC())
	f.SetTitle(d.title+" "+d.number, true)
	f.SetAuthor(d.seller.Name, true)
	f.SetCreator("Tollgate", true)
	f.SetMargins(18, 18, 18)
	f.SetAutoPageBreak(true, 20)
	f.AddPage()
	p := page{f: f, tr: f.UnicodeTranslatorFromDescriptor("")}
	p.header(d, logo)
	p.parties(d)
	p.table(d)
	p.totals(d)
	p.footer(d)
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("render %s %s: %w", d.title, d.number, err)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %s %s: %w", d.title, d.number, err)
	}
	return buf.Bytes(), nil
}
