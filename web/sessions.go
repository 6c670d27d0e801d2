package web

import (
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// loadCheckoutForm is loadCheckout for a form posted from the checkout page: the form's CSRF
// token must check, or the page answers 403 itself.
func (h *handler) loadCheckoutForm(w http.ResponseWriter, r *http.Request) (store.CheckoutSession, store.Merchant, bool) {
	cs, m, ok := h.loadCheckout(w, r)
	if ok && !h.checkCSRF(r, cs.Ref) {
		h.forbidCSRF(w, m, "/checkout/"+cs.Ref)
		return cs, m, false
	}
	return cs, m, ok
}

// loadCheckout resolves the checkout session of the URL, answering the page itself (404 or
// 410 in words) when there is none to show. A completed session's success page lives as long as
// the session: the link may sit in a browser history or a shared screen, so after the expiry it
// says the purchase went through and shows nothing of it.
func (h *handler) loadCheckout(w http.ResponseWriter, r *http.Request) (store.CheckoutSession, store.Merchant, bool) {
	id := r.PathValue("id")
	if !domain.HasPrefix(id, domain.PrefixCheckoutSession) {
		h.notFound(w, r)
		return store.CheckoutSession{}, store.Merchant{}, false
	}
	cs, err := h.st.GetCheckoutSession(r.Context(), id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		h.notFound(w, r)
		return cs, store.Merchant{}, false
	}
	if err != nil {
		h.internalError(w, store.Merchant{}, "load checkout session", err)
		return cs, store.Merchant{}, false
	}
	m, err := h.st.GetMerchant(r.Context(), cs.MerchantRef)
	if err != nil {
		h.internalError(w, store.Merchant{}, "load merchant", err)
		return cs, m, false
	}
	if h.checkoutExpired(cs) {
		msg := message{
			Heading:   "This checkout link has expired",
			Body:      "For your security, checkout links only work for a limited time. Nothing was charged. Ask " + merchantName(m) + " for a new link to complete your purchase.",
			ReturnURL: safeURL(cs.ReturnURL),
		}
		if cs.Status == "complete" {
			msg.Heading = "This page has expired"
			msg.Body = "Your purchase went through. For your privacy, its details are no longer shown on this link; " +
				merchantName(m) + " shows your plan and receipts in your account."
		}
		h.renderMessage(w, http.StatusGone, m, msg)
		return cs, m, false
	}
	return cs, m, true
}

// checkoutExpired reports whether the session's link has outlived its stored expiry or the
// server's CheckoutTTL, whatever became of the checkout.
func (h *handler) checkoutExpired(cs store.CheckoutSession) bool {
	now := h.cfg.Now()
	if cs.Expired(now) || now.After(cs.ExpiresAt) {
		return true
	}
	return h.cfg.CheckoutTTL > 0 && now.After(cs.CreatedAt.Add(h.cfg.CheckoutTTL))
}

// loadPortal resolves the portal session of the URL (15 minutes by default).
func (h *handler) loadPortal(w http.ResponseWriter, r *http.Request) (store.CustomerSession, store.Merchant, bool) {
	id := r.PathValue("id")
	if !domain.HasPrefix(id, domain.PrefixPortalSession) {
		h.notFound(w, r)
		return store.CustomerSession{}, store.Merchant{}, false
	}
	ps, err := h.st.GetCustomerSession(r.Context(), id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		h.notFound(w, r)
		return ps, store.Merchant{}, false
	}
	if err != nil {
		h.internalError(w, store.Merchant{}, "load customer session", err)
		return ps, store.Merchant{}, false
	}
	m, err := h.st.GetMerchant(r.Context(), ps.MerchantRef)
	if err != nil {
		h.internalError(w, store.Merchant{}, "load merchant", err)
		return ps, m, false
	}
	now := h.cfg.Now()
	if ps.Expired(now) || (h.cfg.PortalTTL > 0 && now.After(ps.CreatedAt.Add(h.cfg.PortalTTL))) {
		h.renderMessage(w, http.StatusGone, m, message{
			Heading:   "This billing link has expired",
			Body:      "Billing portal links work for a short time only, to keep your account safe. Go back to " + merchantName(m) + " and open the billing portal again.",
			ReturnURL: safeURL(ps.ReturnURL),
		})
		return ps, m, false
	}
	return ps, m, true
}

// forbidCSRF answers a POST whose token does not match: the form is stale or forged.
func (h *handler) forbidCSRF(w http.ResponseWriter, m store.Merchant, back string) {
	h.renderMessage(w, http.StatusForbidden, m, message{
		Heading:   "This form has expired",
		Body:      "We couldn't verify this request, so nothing was changed. Go back, reload the page and try again.",
		ReturnURL: back, LinkText: "Back to the page",
	})
}

// location is the customer's time zone for dates, UTC when unknown.
func location(c domain.Customer) *time.Location {
	if c.Timezone != "" {
		if loc, err := time.LoadLocation(c.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}
