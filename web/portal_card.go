package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// cardView is the update-card page of the portal.
type cardView struct {
	Base    string
	Action  string
	CSRF    string
	Current string
	PastDue bool
	cardEntry
}

// portalCardView is the update-card page of customer c; overdue is what h.overdue read for c.
func (h *handler) portalCardView(w http.ResponseWriter, r *http.Request, ps store.CustomerSession, c domain.Customer,
	overdue []domain.Purchase) cardView {
	v := cardView{Base: "/portal/" + ps.Ref, Action: "/portal/" + ps.Ref + "/card", CSRF: h.csrfToken(w, r, ps.Ref),
		cardEntry: h.cardEntry(r.Context(), ps.MerchantRef, ps.Sandbox(), "usd")}
	if c.Card != nil {
		v.Current = cardLabel(*c.Card)
	}
	for _, p := range overdue {
		v.PastDue = true
		v.Currency = strings.ToLower(p.Currency)
	}
	return v
}

func (h *handler) renderCard(w http.ResponseWriter, status int, m store.Merchant, v cardView) {
	h.render(w, status, "card", layout{Title: "Update card · " + merchantName(m), Merchant: m, Sandbox: v.Sandbox,
		Scripts: []string{"/assets/checkout.js"}, StripeJS: v.Stripe}, v)
}

// overdue lists the customer's purchases of the session's mode whose renewal payment failed.
func (h *handler) overdue(ctx context.Context, ps store.CustomerSession) []domain.Purchase {
	var out []domain.Purchase
	for _, status := range overdueStatuses {
		list, _, err := h.st.ListPurchases(ctx, ps.MerchantRef, store.PurchaseFilter{CustomerRef: ps.CustomerRef, Status: status},
			store.Page{Page: 1, Limit: 100})
		if err == nil {
			out = append(out, sessionMode(ps, list)...)
		}
	}
	return out
}

func (h *handler) portalCardPage(w http.ResponseWriter, r *http.Request) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	if h.spent(ps.FailedCardAttempts) {
		h.portalCardSpent(w, ps, m)
		return
	}
	c, err := h.st.GetCustomer(r.Context(), ps.MerchantRef, ps.CustomerRef)
	if err != nil {
		h.portalGone(w, ps, m, err)
		return
	}
	h.renderCard(w, http.StatusOK, m, h.portalCardView(w, r, ps, c, h.overdue(r.Context(), ps)))
}

// portalCard saves a new card and, when a renewal payment is overdue, retries it at once.
func (h *handler) portalCard(w http.ResponseWriter, r *http.Request) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	if !h.checkCSRF(r, ps.Ref) {
		h.forbidCSRF(w, m, "/portal/"+ps.Ref+"/card")
		return
	}
	if h.spent(ps.FailedCardAttempts) {
		h.portalCardSpent(w, ps, m)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 60*time.Second)
	defer cancel()
	c, err := h.st.GetCustomer(ctx, ps.MerchantRef, ps.CustomerRef)
	if err != nil {
		h.portalGone(w, ps, m, err)
		return
	}
	// One read of the overdue purchases serves the page (shown again if the card is refused) and
	// the retries after the card is saved: saving a card changes no purchase's status.
	overdue := h.overdue(ctx, ps)
	v := h.portalCardView(w, r, ps, c, overdue)
	a := cardAttempt{session: ps.Ref, sandbox: ps.Sandbox(), merchant: ps.MerchantRef, customer: c, ip: h.clientIP(r)}
	status, err := h.submitCard(ctx, w, r, a, &v.cardEntry)
	if err != nil {
		h.internalError(w, m, "save card", err)
		return
	}
	if status == cardsSpent {
		h.portalCardSpent(w, ps, m)
		return
	}
	if status != 0 { // the card was refused: the page again, saying why
		h.renderCard(w, status, m, v)
		return
	}
	done := "card"
	for _, p := range overdue {
		st, err := h.cfg.Lifecycle.RetryPayment(ctx, ps.MerchantRef, p.Ref)
		if err == nil && isOverdue(st.Status) {
			h.cardRefused(ctx, a, st.LastError)
			if ferr := h.st.RecordCardFailure(ctx, ps.Ref); ferr != nil {
				h.log.ErrorContext(r.Context(), "record card failure", "session", ps.Ref, "err", ferr)
			}
			err = domain.Errorf(domain.CodePaymentRequired, "", "%s", declineWords(st.LastError, ""))
		}
		if err != nil {
			h.renderPortal(w, r, ps, m, http.StatusPaymentRequired,
				"Your new card was saved, but the overdue payment for "+p.PlanName+" didn't go through: "+refusalWords(err))
			return
		}
		h.awaitProjection(ctx, ps.MerchantRef, p.Ref, settled)
		done = "card_paid"
	}
	http.Redirect(w, r, "/portal/"+ps.Ref+"?done="+done, http.StatusSeeOther)
}

func (h *handler) portalCardSpent(w http.ResponseWriter, ps store.CustomerSession, m store.Merchant) {
	h.renderSpent(w, m, "Card updates are closed on this link",
		"Open the billing portal again from "+merchantName(m)+" later.", ps.ReturnURL)
}
