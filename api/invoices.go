package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
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

// hostedInvoiceURL is the invoice's page for its customer: no key, an unguessable token.
func (s *Server) hostedInvoiceURL(r *http.Request, token string) string {
	return s.baseURL(r) + "/invoice/" + token
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
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getCreditNote(w http.ResponseWriter, r *http.Request) error {
	cn, err := s.store.GetCreditNote(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cn)
	return nil
}
