package web

import (
	"context"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
)

// A customer holds at most one live purchase of a product. A checkout for another plan of a
// product the customer already has changes that purchase's plan (the workflow's change-plan
// step, now and prorated): the session then completes on that purchase. A checkout that loses
// a race with another activation of the product shows what won.

// buy starts purchase ref of plan in the session's mode, or changes the customer's live purchase
// of the product when there is one on another plan; it answers the purchase's state and
// reference.
func (h *handler) buy(ctx context.Context, cs store.CheckoutSession, plan domain.Plan, ref string) (PurchaseState, string, error) {
	live, err := h.st.LivePurchase(ctx, cs.MerchantRef, cs.CustomerRef, cs.ProductRef)
	if err == nil && live.Ref != ref && live.PlanRef != plan.Ref && live.Status != domain.PurchasePending {
		if live.Sandbox != cs.Sandbox() { // a sandbox session never changes a live purchase, nor the reverse
			return PurchaseState{}, ref, starter.ModeConflict(live.Ref, live.Sandbox)
		}
		if err := h.st.ReleaseCheckoutPurchase(ctx, cs.Ref, ref); err != nil {
			return PurchaseState{}, ref, err
		}
		if ref, err = h.st.ReserveCheckoutPurchase(ctx, cs.Ref, live.Ref); err != nil {
			return PurchaseState{}, ref, err
		}
		st, err := h.cfg.Lifecycle.ChangePlan(ctx, cs.MerchantRef, ref, plan, "checkout/"+cs.Ref)
		return st, ref, err
	}
	st, err := h.cfg.Lifecycle.Start(ctx, StartInput{PurchaseRef: ref, MerchantRef: cs.MerchantRef,
		CustomerRef: cs.CustomerRef, ProductRef: cs.ProductRef, Plan: plan, Quantity: cs.Quantity, Sandbox: cs.Sandbox()})
	return st, ref, err
}

// ownedAfterRace answers a Pay that lost to a concurrent activation of the same product: once
// that purchase has the outcome of its first payment, a purchase of this plan is shown as the
// customer's ("you already have"). It reports whether it answered.
func (h *handler) ownedAfterRace(ctx context.Context, w http.ResponseWriter, cs store.CheckoutSession, m store.Merchant,
	d checkoutData) bool {
	deadline := time.Now().Add(h.cfg.ActivationWait)
	for delay := 50 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 500*time.Millisecond) {
		p, err := h.st.LivePurchase(ctx, cs.MerchantRef, cs.CustomerRef, cs.ProductRef)
		if err != nil || p.Status != domain.PurchasePending {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
	}
	return h.alreadyOwned(ctx, w, cs, m, d, "")
}

// restoreCard makes working the customer's default card again after the card entered at
// checkout failed its first payment, so a declined card never replaces a card that pays. A
// card the customer saved meanwhile elsewhere (the portal) is left as it is.
func (h *handler) restoreCard(ctx context.Context, cs store.CheckoutSession, working *domain.Card) {
	if working == nil || working.PaymentMethod == "" {
		return
	}
	now, err := h.st.GetCustomer(ctx, cs.MerchantRef, cs.CustomerRef)
	if err != nil || now.Card == nil || now.Card.PaymentMethod == working.PaymentMethod {
		return
	}
	if err := h.st.ReplacePaymentMethod(ctx, cs.MerchantRef, cs.CustomerRef, now.Card.PaymentMethod, *working); err != nil {
		h.log.ErrorContext(ctx, "restore the working card", "session", cs.Ref, "err", err)
	}
}
