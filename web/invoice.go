package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/pdf"
	"github.com/tollgate-billing/tollgate/store"
)

// The hosted documents: /invoice/<token> and /credit-note/<token>, each the document for its
// customer with no key and no session — the token (40 random base62 characters, about 238 bits)
// is the only credential, as the link in an email is — and a button that downloads its PDF.
// The invoice page links the credit notes issued against it; a credit note links its invoice.

type invoicePage struct {
	Number      string
	Status      string
	StatusClass string
	Issued      string
	Paid        string
	Voided      string
	Seller      partyView
	Buyer       partyView
	Lines       []invoiceLineView
	Subtotal    string
	Tax         string
	TaxLabel    string // the rate's name and percentage, "VAT 19%"
	Total       string
	TaxNote     string
	// RoundingNote says how the tax was rounded, when there is any: the PDF's note, word for word
	RoundingNote string
	CreditNotes  []documentView
	PDF          string
}

type invoiceLineView struct {
	Description, Period, UnitAmount, Amount string
	Quantity                                int64
}

// partyView is a seller or a buyer as the page names them: the name, then the lines under it.
type partyView struct {
	Name  string
	Lines []string
}

// documentView is one invoice or credit note in a list: the portal's, or an invoice's credit notes.
type documentView struct {
	Kind        string // Invoice or Credit note
	Number      string
	Date        string
	Total       string
	Status      string
	StatusClass string
	Detail      string
	URL         string // the hosted page
	PDF         string
	issued      time.Time
}

type creditNotePage struct {
	Number     string
	Issued     string
	Seller     partyView
	Buyer      partyView
	Invoice    string // the invoice's number
	InvoiceURL string // its hosted page
	Reason     string
	Subtotal   string
	Tax        string
	Total      string
	PDF        string
}

func invoiceURL(token string) string    { return "/invoice/" + token }
func creditNoteURL(token string) string { return "/credit-note/" + token }

// documentDate is a document's date as the document prints it: the issue date in UTC, so the page,
// the portal and the PDF agree wherever the reader is.
func documentDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

// invoiceStatus is an invoice's status in words and its badge's class.
func invoiceStatus(s string) (string, string) {
	switch s {
	case domain.InvoicePaid:
		return "Paid", "ok"
	case domain.InvoiceOpen:
		return "Open", "info"
	case domain.InvoiceVoid:
		return "Void", "muted"
	case domain.InvoiceUncollectible:
		return "Uncollectible", "bad"
	}
	return upperFirst(s), "muted"
}

func partyViewOf(p domain.Party, seller bool) partyView {
	v := partyView{Name: p.Name, Lines: append([]string{}, p.AddressLines...)}
	for _, id := range p.TaxIDs {
		l := "Tax ID: " + id.ID
		if id.Type != "" {
			l += " (" + id.Type + ")"
		}
		v.Lines = append(v.Lines, l)
	}
	if p.Email != "" {
		v.Lines = append(v.Lines, p.Email)
	}
	if seller && p.SupportContact != "" {
		v.Lines = append(v.Lines, "Support: "+p.SupportContact)
	}
	return v
}

func invoiceDocument(inv domain.Invoice) documentView {
	v := documentView{Kind: "Invoice", Number: inv.Number, Total: formatMoney(inv.Total, inv.Currency),
		URL: invoiceURL(inv.HostedToken), PDF: invoiceURL(inv.HostedToken) + "/pdf"}
	if inv.IssuedAt != nil {
		v.issued, v.Date = *inv.IssuedAt, documentDate(*inv.IssuedAt)
	}
	v.Status, v.StatusClass = invoiceStatus(inv.Status)
	return v
}

func creditNoteDocument(cn domain.CreditNote) documentView {
	return documentView{Kind: "Credit note", Number: cn.Number, Date: documentDate(cn.IssuedAt), issued: cn.IssuedAt,
		Total: formatMoney(-cn.Total, cn.Currency), Status: "Credited", StatusClass: "muted",
		Detail: "Credit note for " + cn.InvoiceNumber, URL: creditNoteURL(cn.HostedToken), PDF: creditNoteURL(cn.HostedToken) + "/pdf"}
}

// loadInvoice finds the invoice of the request's token and its merchant; it has answered when
// ok is false.
func (h *handler) loadInvoice(w http.ResponseWriter, r *http.Request) (domain.Invoice, store.Merchant, bool) {
	inv, err := h.st.InvoiceByToken(r.Context(), r.PathValue("token"))
	m, ok := h.documentMerchant(w, r, inv.MerchantRef, err)
	return inv, m, ok
}

// loadCreditNote finds the credit note of the request's token, its invoice and its merchant.
func (h *handler) loadCreditNote(w http.ResponseWriter, r *http.Request) (domain.CreditNote, domain.Invoice, store.Merchant, bool) {
	cn, err := h.st.CreditNoteByToken(r.Context(), r.PathValue("token"))
	var inv domain.Invoice
	if err == nil {
		inv, err = h.st.GetInvoice(r.Context(), cn.MerchantRef, cn.Mode, cn.InvoiceRef)
	}
	m, ok := h.documentMerchant(w, r, cn.MerchantRef, err)
	return cn, inv, m, ok
}

// documentMerchant answers the merchant of a document found with err: an unknown token is the
// page every bad link gets.
func (h *handler) documentMerchant(w http.ResponseWriter, r *http.Request, merchant string, err error) (store.Merchant, bool) {
	if err != nil {
		if domain.ErrorCode(err) != domain.CodeNotFound {
			h.internalError(w, store.Merchant{}, "read document", err)
		} else {
			h.notFound(w, r)
		}
		return store.Merchant{}, false
	}
	m, err := h.st.GetMerchant(r.Context(), merchant)
	if err != nil {
		h.internalError(w, store.Merchant{}, "read merchant", err)
		return m, false
	}
	return m, true
}

func (h *handler) invoicePage(w http.ResponseWriter, r *http.Request) {
	inv, m, ok := h.loadInvoice(w, r)
	if !ok {
		return
	}
	p := invoicePage{Number: inv.Number, Seller: partyViewOf(inv.Seller, true), Buyer: partyViewOf(inv.Buyer, false),
		Subtotal: formatMoney(inv.Subtotal, inv.Currency), Tax: formatMoney(inv.Tax, inv.Currency),
		TaxLabel: domain.TaxLabel(inv.Lines), Total: formatMoney(inv.Total, inv.Currency), TaxNote: inv.TaxNote, PDF: invoiceURL(inv.HostedToken) + "/pdf"}
	p.Status, p.StatusClass = invoiceStatus(inv.Status)
	if inv.IssuedAt != nil {
		p.Issued = documentDate(*inv.IssuedAt)
	}
	if inv.PaidAt != nil && inv.Status == domain.InvoicePaid {
		p.Paid = documentDate(*inv.PaidAt)
	}
	if inv.VoidedAt != nil && inv.Status == domain.InvoiceVoid {
		p.Voided = documentDate(*inv.VoidedAt)
	}
	if inv.Tax != 0 { // the note the PDF prints (pdf taxNotes), from the same text
		p.RoundingNote = domain.TaxRoundingNote
	}
	for _, l := range inv.Lines {
		v := invoiceLineView{Description: l.Description, Quantity: l.Quantity, UnitAmount: formatMoney(l.UnitAmount, inv.Currency),
			Amount: formatMoney(l.Amount, inv.Currency)}
		if l.PeriodStart != nil && l.PeriodEnd != nil {
			v.Period = l.PeriodStart.UTC().Format("2 Jan 2006") + " – " + l.PeriodEnd.UTC().Format("2 Jan 2006")
		}
		p.Lines = append(p.Lines, v)
	}
	if len(inv.CreditNotes) > 0 {
		notes, err := h.st.CreditNotesOfInvoice(r.Context(), inv.MerchantRef, inv.Mode, inv.Ref)
		if err != nil {
			h.internalError(w, m, "read credit notes", err)
			return
		}
		for _, cn := range notes {
			p.CreditNotes = append(p.CreditNotes, creditNoteDocument(cn))
		}
	}
	h.render(w, http.StatusOK, "invoice", layout{Title: "Invoice " + inv.Number, Merchant: m, Sandbox: inv.Mode == domain.ModeSandbox}, p)
}

func (h *handler) creditNotePage(w http.ResponseWriter, r *http.Request) {
	cn, inv, m, ok := h.loadCreditNote(w, r)
	if !ok {
		return
	}
	p := creditNotePage{Number: cn.Number, Issued: documentDate(cn.IssuedAt), Seller: partyViewOf(inv.Seller, true),
		Buyer: partyViewOf(inv.Buyer, false), Invoice: inv.Number, InvoiceURL: invoiceURL(inv.HostedToken),
		Subtotal: formatMoney(cn.Subtotal, cn.Currency), Tax: formatMoney(cn.Tax, cn.Currency),
		Total: formatMoney(cn.Total, cn.Currency), PDF: creditNoteURL(cn.HostedToken) + "/pdf"}
	if cn.Reason != "" {
		p.Reason = upperFirst(strings.ReplaceAll(cn.Reason, "_", " ")) // requested_by_customer reads as words
	}
	h.render(w, http.StatusOK, "credit_note", layout{Title: "Credit note " + cn.Number, Merchant: m,
		Sandbox: cn.Mode == domain.ModeSandbox}, p)
}

// invoicePDF answers the invoice's PDF as a download, the same bytes as the API's.
func (h *handler) invoicePDF(w http.ResponseWriter, r *http.Request) {
	inv, m, ok := h.loadInvoice(w, r)
	if !ok {
		return
	}
	logo, err := pdf.MerchantLogo(r.Context(), h.st, inv.MerchantRef)
	var doc []byte
	if err == nil {
		doc, err = pdf.Invoice(inv, logo)
	}
	h.writePDF(w, m, "invoice-"+inv.Ref, doc, err)
}

// creditNotePDF answers the credit note's PDF as a download, the same bytes as the API's.
func (h *handler) creditNotePDF(w http.ResponseWriter, r *http.Request) {
	cn, inv, m, ok := h.loadCreditNote(w, r)
	if !ok {
		return
	}
	logo, err := pdf.MerchantLogo(r.Context(), h.st, cn.MerchantRef)
	var doc []byte
	if err == nil {
		doc, err = pdf.CreditNote(cn, inv, logo)
	}
	h.writePDF(w, m, "credit-note-"+cn.Ref, doc, err)
}

// writePDF answers a rendered document as a download named name.pdf, or the error page when
// rendering failed.
func (h *handler) writePDF(w http.ResponseWriter, m store.Merchant, name string, doc []byte, err error) {
	if err != nil {
		h.internalError(w, m, "render document", err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}
