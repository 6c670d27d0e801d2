package api

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/pdf"
	"github.com/tollgate-billing/tollgate/store"
)

// invoiceFilter reads the filters of the invoice and credit-note lists: the customer and
// purchase in either spelling, ?status= (invoices) and ?fromDate=&toDate= (YYYY-MM-DD,
// inclusive, on the creation date). The key's mode always filters.
func invoiceFilter(r *http.Request) (store.InvoiceFilter, error) {
	f := store.InvoiceFilter{Mode: keyOf(r).Mode, Status: r.URL.Query().Get("status")}
	var err error
	if f.From, f.To, err = dateRange(r); err != nil {
		return f, err
	}
	if f.CustomerRef, err = queryAlias(r, "customerRef", "customerId"); err != nil {
		return f, err
	}
	if f.PurchaseRef, err = queryAlias(r, "purchaseRef", "purchaseId"); err != nil {
		return f, err
	}
	return f, oneOf("status", f.Status, domain.InvoiceDraft, domain.InvoiceOpen, domain.InvoicePaid, domain.InvoiceVoid,
		domain.InvoiceUncollectible)
}

// listInvoices lists the key's mode's invoices, newest first (lines are in GET /v1/invoices/{ref}).
func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	f, err := invoiceFilter(r)
	if err != nil {
		return err
	}
	list, total, err := s.store.ListInvoices(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].HostedURL = s.hostedInvoiceURL(r, list[i].HostedToken)
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.store.GetInvoice(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	inv.HostedURL = s.hostedInvoiceURL(r, inv.HostedToken)
	writeJSON(w, http.StatusOK, inv)
	return nil
}

// voidInvoice voids an invoice nothing was paid against (store.VoidInvoice says which): a
// paid one is refused in words (refund its payment instead), and so is an open one whose
// payment is still processing — the processor's answer settles it paid or void.
func (s *Server) voidInvoice(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	inv, err := s.store.VoidInvoice(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	inv.HostedURL = s.hostedInvoiceURL(r, inv.HostedToken)
	writeJSON(w, http.StatusOK, inv)
	return nil
}

// hostedInvoiceURL is the invoice's page for its customer: no key, an unguessable token.
func (s *Server) hostedInvoiceURL(r *http.Request, token string) string {
	return s.baseURL(r) + "/invoice/" + token
}

// hostedCreditNoteURL is the credit note's page for its customer, as the invoice's.
func (s *Server) hostedCreditNoteURL(r *http.Request, token string) string {
	return s.baseURL(r) + "/credit-note/" + token
}

func (s *Server) listCreditNotes(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	f, err := invoiceFilter(r)
	if err != nil {
		return err
	}
	if f.Status != "" {
		return domain.Errorf(domain.CodeInvalidField, "status", "credit notes have no status to filter on")
	}
	list, total, err := s.store.ListCreditNotes(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].HostedURL = s.hostedCreditNoteURL(r, list[i].HostedToken)
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getCreditNote(w http.ResponseWriter, r *http.Request) error {
	cn, err := s.store.GetCreditNote(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	cn.HostedURL = s.hostedCreditNoteURL(r, cn.HostedToken)
	writeJSON(w, http.StatusOK, cn)
	return nil
}

// getInvoicePDF answers the invoice as a PDF, rendered in-process: the same invoice gives the
// same bytes (pdf package).
func (s *Server) getInvoicePDF(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.store.GetInvoice(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	logo, err := pdf.MerchantLogo(r.Context(), s.store, inv.MerchantRef)
	if err != nil {
		return err
	}
	doc, err := pdf.Invoice(inv, logo)
	if err != nil {
		return err
	}
	writePDF(w, inv.Number, doc)
	return nil
}

func (s *Server) getCreditNotePDF(w http.ResponseWriter, r *http.Request) error {
	ctx, merchant, mode := r.Context(), merchantOf(r), keyOf(r).Mode
	cn, err := s.store.GetCreditNote(ctx, merchant, mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	inv, err := s.store.GetInvoice(ctx, merchant, mode, cn.InvoiceRef)
	if err != nil {
		return err
	}
	logo, err := pdf.MerchantLogo(ctx, s.store, merchant)
	if err != nil {
		return err
	}
	doc, err := pdf.CreditNote(cn, inv, logo)
	if err != nil {
		return err
	}
	writePDF(w, cn.Number, doc)
	return nil
}

// writePDF answers a document inline, named after its number.
func writePDF(w http.ResponseWriter, number string, doc []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+safeFileName(number)+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// safeFileName keeps the characters a file name and a header can hold.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, s)
}
