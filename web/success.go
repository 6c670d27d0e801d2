package web

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
)

// successView is the page after a completed checkout; a reload shows it again until the session
// expires (loadCheckout).
type successView struct {
	Heading     string
	Lead        string
	ProductName string
	PlanLine    string
	Paid        string
	NextBilling string
	Card        string
	Email       string
	PurchaseRef string
	ReturnURL   string
	LinkText    string
}

func (h *handler) checkoutSuccess(w http.ResponseWriter, r *http.Request) {
	cs, m, ok := h.loadCheckout(w, r)
	if !ok {
		return
	}
	if cs.Status != "complete" {
		http.Redirect(w, r, "/checkout/"+cs.Ref, http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		h.internalError(w, m, "load checkout", err)
		return
	}
	plan := d.plan
	if plan.Ref == "" { // the plan was retired after the purchase: show what was bought
		plan, _ = h.st.GetPlanAnyState(ctx, cs.MerchantRef, cs.PlanRef)
	}
	loc := location(d.customer)
	v := successView{Heading: "Payment successful", ProductName: d.product.Name,
		PlanLine: plan.Name + " · " + priceLine(plan), Email: d.customer.Email, PurchaseRef: cs.PurchaseRef,
		ReturnURL: safeURL(cs.ReturnURL), LinkText: "Return to " + merchantName(m)}
	if c := d.customer.Card; c != nil {
		v.Card = cardLabel(*c)
	}
	due, trial := dueToday(plan), false
	if p, err := h.st.GetPurchase(ctx, cs.MerchantRef, cs.PurchaseRef); err == nil {
		v.Paid = formatMoney(p.PaidTotal, p.Currency)
		if p.NextBillingAt != nil {
			v.NextBilling = formatDate(*p.NextBillingAt, loc)
		}
		trial = p.Status == domain.PurchaseTrialing
	} else {
		v.Paid = formatMoney(due, plan.Currency)
	}
	switch {
	case trial:
		v.Heading, v.Lead = "Your free trial has started", "You won't be charged until your trial ends."
	case due == 0:
		v.Heading, v.Lead = "You're all set", "Your "+plan.Name+" plan is active."
	default:
		v.Lead = "Thank you! Your " + plan.Name + " plan is active."
	}
	h.render(w, http.StatusOK, "success", layout{Title: v.Heading + " · " + merchantName(m), Merchant: m,
		Sandbox: cs.Sandbox()}, v)
}

// cardLabel is a card as people recognise it: "Visa •••• 4242".
func cardLabel(c domain.Card) string {
	return brandName(c.Brand) + " •••• " + c.Last4
}

func brandName(b string) string {
	switch b {
	case "visa":
		return "Visa"
	case "mastercard":
		return "Mastercard"
	case "amex":
		return "American Express"
	case "discover":
		return "Discover"
	case "":
		return "Card"
	}
	return b
}
