package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// Switching plan in the portal: the customer picks another plan of the product, sees what the
// change will charge or credit (the workflow's own preview) and confirms; an upgrade is made now,
// prorated, a downgrade is scheduled for the period end and can be undone until then.

// previewTTL is how long a shown preview may be confirmed: later, the change is priced again.
const previewTTL = 30 * time.Minute

type planChoice struct {
	Ref, Name, Amount string
}

type changeLineView struct {
	Description, Amount string
	Credit              bool
}

type changePageView struct {
	Base, CSRF string
	Purchase   purchaseView
	Choices    []planChoice // the plans to pick from, before one is picked
	Error      string
	// The preview of the picked plan.
	Plan          planChoice
	Now           bool // the change takes effect now; otherwise at the period end
	EffectiveAt   string
	Lines         []changeLineView
	Summary       string // what will be charged or credited, in words
	NextRenewal   string
	ProrationDate string
}

// changeablePlans are the active plans of the product a purchase may switch to.
func (h *handler) changeablePlans(r *http.Request, p domain.Purchase) []domain.Plan {
	plans, _, err := h.st.ListPlansFiltered(r.Context(), p.MerchantRef, store.PlanFilter{ProductRef: p.ProductRef,
		Status: domain.StatusActive}, store.Page{Page: 1, Limit: 100})
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(plans, func(pl domain.Plan) bool {
		return pl.Ref == p.PlanRef || pl.Type == domain.PlanOneTime || pl.Currency != p.Currency && pl.Price > 0
	})
}

// canChange says whether the portal offers a plan change for the purchase.
func canChange(p domain.Purchase) bool {
	return (p.Status == domain.PurchaseActive || p.Status == domain.PurchaseTrialing) && p.CancelledAt == nil &&
		p.PlanType != domain.PlanOneTime
}

func choiceOf(pl domain.Plan) planChoice {
	return planChoice{Ref: pl.Ref, Name: pl.Name, Amount: planAmount(pl)}
}

// planAmount is what a plan costs, for people: "$49.00 per month", "Free".
func planAmount(pl domain.Plan) string {
	switch pl.Type {
	case domain.PlanOneTime:
		return formatMoney(pl.Price, pl.Currency) + " once"
	case domain.PlanFree:
		return "Free"
	case domain.PlanUsageBased:
		return "Pay as you go"
	}
	return formatMoney(pl.Price, pl.Currency) + " " + cadence(pl)
}

// portalChangePage lists the plans to switch to, or with ?plan= shows the preview of the
// change and the confirmation.
func (h *handler) portalChangePage(w http.ResponseWriter, r *http.Request) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p, ok := h.ownPurchase(ctx, ps, r.URL.Query().Get("purchase"))
	if !ok || !canChange(p) {
		h.notFound(w, r)
		return
	}
	c, _ := h.st.GetCustomer(ctx, ps.MerchantRef, ps.CustomerRef)
	loc := location(c)
	v := changePageView{Base: "/portal/" + ps.Ref, CSRF: h.csrfToken(w, r, ps.Ref), Purchase: purchaseViewOf(p, "", loc)}
	if prod, err := h.st.GetProduct(ctx, ps.MerchantRef, p.ProductRef); err == nil {
		v.Purchase.ProductName = prod.Name
	}
	plans := h.changeablePlans(r, p)
	l := layout{Title: "Change plan · " + merchantName(m), Merchant: m, Sandbox: ps.Sandbox()}
	i := slices.IndexFunc(plans, func(pl domain.Plan) bool { return pl.Ref == r.URL.Query().Get("plan") })
	if i < 0 {
		for _, pl := range plans {
			v.Choices = append(v.Choices, choiceOf(pl))
		}
		h.render(w, http.StatusOK, "change_plan", l, v)
		return
	}
	v.Plan = choiceOf(plans[i])
	q, err := h.cfg.Lifecycle.PreviewChange(ctx, ps.MerchantRef, p.Ref, plans[i].Ref)
	if err != nil {
		v.Error = refusalWords(err)
		h.render(w, http.StatusConflict, "change_plan", l, v)
		return
	}
	v.Now, v.EffectiveAt = q.Effective != "period_end", formatDate(q.EffectiveAt, loc)
	for _, line := range q.Lines {
		v.Lines = append(v.Lines, changeLineView{Description: line.Description, Amount: formatMoney(line.Amount, q.Currency),
			Credit: line.Amount < 0})
	}
	v.Summary = changeSummary(q, v.Plan.Name, v.EffectiveAt)
	if !q.NextRenewalAt.IsZero() {
		v.NextRenewal = "Your next renewal on " + formatDate(q.NextRenewalAt, loc) + " will be " + formatMoney(q.NextRenewal, q.Currency)
		if q.Credit > 0 {
			v.NextRenewal += ", after your credit of " + formatMoney(q.Credit, q.Currency)
		}
		v.NextRenewal += ", plus any metered usage."
	}
	if q.ProrationDate != nil {
		v.ProrationDate = q.ProrationDate.UTC().Format(time.RFC3339)
	}
	h.render(w, http.StatusOK, "change_plan", l, v)
}

// changeSummary says in words what confirming will charge or credit.
func changeSummary(q ChangePreview, plan, at string) string {
	switch {
	case q.Effective == "period_end":
		return "You'll move to " + plan + " on " + at + ". Nothing is charged now, and you keep your current plan until then."
	case q.Total > 0:
		return "You'll be charged " + formatMoney(q.Total, q.Currency) + " now to your card on file, and move to " + plan + " at once."
	case q.Total < 0:
		return "You'll move to " + plan + " at once and get a credit of " + formatMoney(-q.Total, q.Currency) +
			", used for your next payments. Nothing is charged now."
	}
	return "You'll move to " + plan + " at once. Nothing is charged now."
}

// portalChange makes the change the customer confirmed, priced as the preview showed it.
func (h *handler) portalChange(w http.ResponseWriter, r *http.Request) {
	planRef := r.PostFormValue("plan")
	var at *time.Time
	if s := r.PostFormValue("proration_date"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil || time.Since(t) > previewTTL {
			// A stale or altered preview: show the change priced again.
			ps := r.PathValue("id")
			http.Redirect(w, r, "/portal/"+ps+"/change?purchase="+url.QueryEscape(r.PostFormValue("purchase"))+"&plan="+url.QueryEscape(planRef),
				http.StatusSeeOther)
			return
		}
		at = &t
	}
	h.portalAction(w, r, "changed", func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error) {
		return h.cfg.Lifecycle.ConfirmChange(ctx, ps.MerchantRef, p.Ref, planRef, at)
	}, func(p domain.Purchase) bool {
		return p.PlanRef == planRef || p.ScheduledChange != nil && p.ScheduledChange.PlanRef == planRef
	})
}

// portalKeepPlan cancels the change scheduled for the period end.
func (h *handler) portalKeepPlan(w http.ResponseWriter, r *http.Request) {
	h.portalAction(w, r, "kept", func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error) {
		return h.cfg.Lifecycle.CancelScheduledChange(ctx, ps.MerchantRef, p.Ref)
	}, func(p domain.Purchase) bool { return p.ScheduledChange == nil })
}
