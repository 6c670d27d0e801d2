package web

import (
	"net/http"
	"strconv"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/pdf"
	"github.com/tollgate-billing/tollgate/store"
)

// The hosted invoice page, /invoice/<token>: the invoice for its customer, with no key and no
// session — the token (40 random base62 characters, about 238 bits) is the only credential, as
// the link in an email is — and a button that downloads its PDF.

type invoicePage struct {
	Invoice  domain.Invoice
	Lines    []invoiceLineView
	Subtotal string
	Tax      string
	Total    string
	Issued   string
	PDF      string
}

type invoiceLineView struct {
	Description, Period, Amount string
	Quantity                    int64
}

func (h *handler) loadInvoice(w http.ResponseWriter, r *http.Request) (domain.Invoice, store.Merchant, bool) {
	inv, err := h.st.InvoiceByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		if domain.ErrorCode(err) != domain.CodeNotFound {
			h.internalError(w, store.Merchant{}, "read invoice", err)
		} else {
			h.notFound(w, r)
		}
		return inv, store.Merchant{}, false
	}
	m, err := h.st.GetMerchant(r.Context(), inv.MerchantRef)
	if err != nil {
		h.internalError(w, store.Merchant{}, "read merchant", err)
		return inv, m, false
	}
	return inv, m, true
}

func (h *handler) invoicePage(w http.ResponseWriter, r *http.Request) {
	inv, m, ok := h.loadInvoice(w, r)
	if !ok {
		return
	}
	p := invoicePage{Invoice: inv, Subtotal: formatMoney(inv.Subtotal, inv.Currency), Tax: formatMoney(inv.Tax, inv.Currency),
		Total: formatMoney(inv.Total, inv.Currency), PDF: "/invoice/" + r.PathValue("token") + "/pdf"}
	if inv.IssuedAt != nil {
		p.Issued = inv.IssuedAt.UTC().Format("2 January 2006")
	}
	for _, l := range inv.Lines {
		v := invoiceLineView{Description: l.Description, Quantity: l.Quantity, Amount: formatMoney(l.Amount, inv.Currency)}
		if l.PeriodStart != nil && l.PeriodEnd != nil {
			v.Period = l.PeriodStart.UTC().Format("2 Jan 2006") + " – " + l.PeriodEnd.UTC().Format("2 Jan 2006")
		}
		p.Lines = append(p.Lines, v)
	}
	h.render(w, http.StatusOK, "invoice", layout{Title: "Invoice " + inv.Number, Merchant: m, Sandbox: inv.Mode == domain.ModeSandbox}, p)
}

// invoicePDF answers the invoice's PDF as a download, the same bytes as the API's.
func (h *handler) invoicePDF(w http.ResponseWriter, r *http.Request) {
	inv, m, ok := h.loadInvoice(w, r)
	if !ok {
		return
	}
	var logo *pdf.Logo
	b, typ, err := h.st.InvoiceLogo(r.Context(), inv.MerchantRef)
	if err == nil && b != nil {
		logo = &pdf.Logo{Bytes: b, Type: typ}
	}
	var doc []byte
	if err == nil {
		doc, err = pdf.Invoice(inv, logo)
	}
	if err != nil {
		h.internalError(w, m, "render invoice", err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="invoice-`+inv.Ref+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}
