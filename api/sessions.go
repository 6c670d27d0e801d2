package api

import (
	"net/http"
	"net/url"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

type checkoutSessionInput struct {
	CustomerRef      string `json:"customerRef"`
	CustomerID       string `json:"customerId"`
	ProductRef       string `json:"productRef"`
	ProductReference string `json:"productReference"`
	PlanRef          string `json:"planRef"`
	ReturnURL        string `json:"returnUrl"`
	// Quantity is the seats to buy on a per-seat plan (default 1).
	Quantity *int64 `json:"quantity"`
}

// checkoutSessionView is a session with the URL to send the customer to.
type checkoutSessionView struct {
	store.CheckoutSession
	URL string `json:"url"`
}

type customerSessionView struct {
	store.CustomerSession
	URL string `json:"url"`
}

// validReturnURL accepts an absolute http(s) URL, where the hosted page sends the customer back.
func validReturnURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2000 {
		return domain.Errorf(domain.CodeInvalidField, "returnUrl", "returnUrl must be an absolute http(s) URL")
	}
	return nil
}

// validate checks the body and answers the customer and product references it names.
func (in checkoutSessionInput) validate() (customerRef, productRef string, err error) {
	if customerRef, err = requiredAlias("customerRef", in.CustomerRef, "customerId", in.CustomerID); err != nil {
		return "", "", err
	}
	if productRef, err = requiredAlias("productRef", in.ProductRef, "productReference", in.ProductReference); err != nil {
		return "", "", err
	}
	return customerRef, productRef, validReturnURL(in.ReturnURL)
}

// createCheckoutSession answers a hosted checkout link on this server for one customer buying
// one plan (the product's default plan when planRef is omitted). The session has the key's
// mode: a sandbox key's checkout takes test cards and makes a sandbox purchase.
func (s *Server) createCheckoutSession(w http.ResponseWriter, r *http.Request) error {
	var in checkoutSessionInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	customerRef, productRef, err := in.validate()
	if err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	c, err := s.customerIn(ctx, merchant, customerRef, "customerRef")
	if err != nil {
		return err
	}
	prd, err := s.productIn(ctx, merchant, productRef, "productRef")
	if err != nil {
		return err
	}
	if prd.Status != domain.StatusActive {
		return domain.Errorf(domain.CodeInvalidField, "productRef", "product %s is %s, not active", prd.Ref, prd.Status)
	}
	plan, err := s.planIn(ctx, merchant, prd.Ref, in.PlanRef)
	if err != nil {
		return err
	}
	if plan.Status != domain.StatusActive {
		return domain.Errorf(domain.CodeInvalidField, "planRef", "plan %s is %s, not active", plan.Ref, plan.Status)
	}
	quantity, err := quantityOf(in.Quantity)
	if err == nil {
		err = plan.CheckQuantity(domain.Quantity(quantity))
	}
	if err != nil {
		return err
	}
	if _, err := s.processor(r); err != nil { // a live key without a live processor: no link that cannot pay
		return err
	}
	cs := checkoutFor(r, c.Ref, prd.Ref, plan.Ref)
	cs.ReturnURL, cs.Quantity = in.ReturnURL, quantity
	cs, err = s.store.CreateCheckoutSession(ctx, cs, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, checkoutSessionView{CheckoutSession: cs, URL: s.checkoutURL(r, cs.Ref)})
	return nil
}

// checkoutURL is the hosted checkout page of a session (also the paywall's checkoutUrl).
func (s *Server) checkoutURL(r *http.Request, ref string) string {
	return s.baseURL(r) + "/checkout/" + ref
}

type customerSessionInput struct {
	CustomerRef string `json:"customerRef"`
	CustomerID  string `json:"customerId"`
	ReturnURL   string `json:"returnUrl"`
}

// createCustomerSession answers a customer-portal link (it expires after 15 minutes).
func (s *Server) createCustomerSession(w http.ResponseWriter, r *http.Request) error {
	var in customerSessionInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	customerRef, err := requiredAlias("customerRef", in.CustomerRef, "customerId", in.CustomerID)
	if err != nil {
		return err
	}
	if err := validReturnURL(in.ReturnURL); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	c, err := s.customerIn(ctx, merchant, customerRef, "customerRef")
	if err != nil {
		return err
	}
	ps, err := s.store.CreateCustomerSession(ctx, store.CustomerSession{MerchantRef: merchant, CustomerRef: c.Ref,
		Mode: keyOf(r).Mode, ReturnURL: in.ReturnURL}, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, customerSessionView{CustomerSession: ps, URL: s.baseURL(r) + "/portal/" + ps.Ref})
	return nil
}

// checkoutFor is a new checkout session of one plan for one customer, in the mode of the
// request's key.
func checkoutFor(r *http.Request, customerRef, productRef, planRef string) store.CheckoutSession {
	k := keyOf(r)
	return store.CheckoutSession{MerchantRef: k.MerchantRef, CustomerRef: customerRef, ProductRef: productRef,
		PlanRef: planRef, Mode: k.Mode}
}
