package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// purchaseView is the projection as the API shows it (domain.PurchaseView).
type purchaseView = domain.PurchaseView

func toPurchaseView(p domain.Purchase) purchaseView { return p.View() }

var purchaseStatuses = []string{string(domain.PurchasePending), string(domain.PurchaseTrialing), string(domain.PurchaseActive),
	string(domain.PurchasePendingCancellation), string(domain.PurchasePastDue), string(domain.PurchaseSuspended),
	string(domain.PurchasePaused), string(domain.PurchaseCancelled), string(domain.PurchaseExpired), string(domain.PurchaseRefunded)}

// listPurchases lists purchases, newest first, by ?status= (pending_cancellation too),
// ?customerRef= / ?customerId=, ?productRef= / ?productReference= and ?planRef=. A customer or
// product that is not the merchant's is a 404 naming the parameter.
func (s *Server) listPurchases(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.PurchaseFilter{Status: domain.PurchaseStatus(q.Get("status")), PlanRef: q.Get("planRef")}
	if err := oneOf("status", q.Get("status"), purchaseStatuses...); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	customerRef, err := queryAlias(r, "customerRef", "customerId")
	if err != nil {
		return err
	}
	if customerRef != "" {
		c, err := s.customerIn(ctx, merchant, customerRef, "customerRef")
		if err != nil {
			return err
		}
		f.CustomerRef = c.Ref
	}
	productRef, err := queryAlias(r, "productRef", "productReference")
	if err != nil {
		return err
	}
	if productRef != "" {
		prd, err := s.productIn(ctx, merchant, productRef, "productRef")
		if err != nil {
			return err
		}
		f.ProductRef = prd.Ref
	}
	list, total, err := s.store.ListPurchases(ctx, merchant, f, p)
	if err != nil {
		return err
	}
	out := make([]purchaseView, len(list))
	for i, pu := range list {
		out[i] = toPurchaseView(pu)
	}
	s.writeList(w, r, out, p, total)
	return nil
}

func (s *Server) getPurchase(w http.ResponseWriter, r *http.Request) error {
	p, err := s.store.GetPurchase(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPurchaseView(p))
	return nil
}
