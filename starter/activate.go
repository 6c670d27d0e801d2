package starter

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Activation results of ActivatePlan (seed 003 "Activate a plan directly").
const (
	Activated       = "activated"
	AlreadyActive   = "already_active"
	TopupRequired   = "topup_required"
	PaymentRequired = "payment_required"
	// AuthenticationRequired: the first payment waits for the customer to authenticate it (3-D
	// Secure) on its page; the purchase is pending until they do (workflows.FirstAuthenticationWindow).
	AuthenticationRequired = "authentication_required"
	Invalid                = "invalid"
)

// ActivateResult answers ActivatePlan. Purchase is set when a purchase is (or already was) live.
type ActivateResult struct {
	Status   string           `json:"status"`
	Message  string           `json:"message,omitempty"`
	Purchase *domain.Purchase `json:"purchase,omitempty"`
	// PreviousPurchaseRef is the purchase that was on another plan: after a plan change it is
	// the same purchase, now on the new plan (the change is a step of its workflow).
	PreviousPurchaseRef string `json:"previousPurchaseRef,omitempty"`
}

// ActivatePlan activates a product for a customer on a plan (the product's default plan when
// planRef is empty) without checkout. Free plans always activate; usage-based plans activate
// at zero (topup_required when they carry a setup fee and no card is on file); recurring,
// hybrid and one-time plans need a card on file (payment_required). A customer already on
// another plan of the product has that purchase changed to plan now, prorated (ChangePlan);
// a declined difference is payment_required and leaves the old plan.
// A missing customer is an error; a bad plan or product is an `invalid` result. The purchase
// has the client's mode (ForMode); a live purchase of the product in the other mode is a
// CONFLICT, never changed.
//
// Concurrent calls for one customer and product make one purchase and one charge: the call
// that claims the purchase starts it, the others wait for its activation and answer it
// (already_active, or payment_required when its first payment failed).
//
// quantity is the seats to buy on a per-seat plan (0: 1, or the live purchase's seats when it
// stays on a per-seat plan); a live purchase of the plan with other seats has its seats
// changed now, prorated. A quantity the plan cannot have is an INVALID_FIELD error.
func (c *Client) ActivatePlan(ctx context.Context, merchant, customerRef, productRef, planRef string, quantity int64) (ActivateResult, error) {
	cus, err := c.Store.GetCustomer(ctx, merchant, customerRef)
	if err != nil {
		return ActivateResult{}, err
	}
	plan, msg, err := c.activationPlan(ctx, merchant, productRef, planRef)
	if err != nil || msg != "" {
		return ActivateResult{Status: Invalid, Message: msg}, err
	}
	if err := plan.CheckQuantity(domain.Quantity(quantity)); err != nil {
		return ActivateResult{}, err
	}
	for attempt := 0; ; attempt++ {
		res, err := c.activateOnce(ctx, cus, plan, quantity)
		if domain.ErrorCode(err) != domain.CodeConflict || attempt == 3 {
			return res, err
		}
		// a concurrent activation, checkout or switch of this product went first: look again
	}
}

// activateOnce activates plan against the customer's live purchase of the product as it is
// now; a CONFLICT means a concurrent call changed it meanwhile.
func (c *Client) activateOnce(ctx context.Context, cus domain.Customer, plan domain.Plan, quantity int64) (ActivateResult, error) {
	live, err := c.Store.LivePurchase(ctx, cus.MerchantRef, cus.Ref, plan.ProductRef)
	hasLive := err == nil
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		return ActivateResult{}, err
	}
	if hasLive && live.Sandbox != c.sandbox() { // one live purchase per product, whatever its mode
		return ActivateResult{}, ModeConflict(live.Ref, live.Sandbox)
	}
	if hasLive && live.Status == domain.PurchasePending { // another call is activating it
		s, err := c.awaitActivation(ctx, live)
		if err != nil || live.PlanRef != plan.Ref {
			return ActivateResult{}, orConflict(err, live)
		}
		return activated(plan, s, AlreadyActive, "")
	}
	if hasLive && live.PlanRef == plan.Ref && (quantity == 0 || quantity == domain.Quantity(live.Quantity)) {
		return ActivateResult{Status: AlreadyActive, Message: fmt.Sprintf("already on plan %s (%s)", plan.Name, live.DisplayStatus()),
			Purchase: &live}, nil
	}
	if status, msg := paymentNeeded(plan, quantity, cus); status != "" {
		return ActivateResult{Status: status, Message: msg}, nil
	}
	if hasLive { // a change of the live purchase, now (seed 003: the old plan ends at once)
		sw, err := c.ChangePlan(ctx, cus.MerchantRef, live.Ref, ChangePlanRequest{PlanRef: plan.Ref, Quantity: quantity,
			Effective: workflows.EffectiveNow})
		if e := domain.AsError(err); e != nil && e.Code == domain.CodePaymentRequired {
			return ActivateResult{Status: PaymentRequired, Message: e.Message, Purchase: &live}, nil
		} else if err != nil {
			return ActivateResult{}, err
		}
		return activated(plan, sw.Purchase, Activated, live.Ref)
	}
	s, err := c.start(ctx, workflows.PurchaseInput{PurchaseRef: domain.NewRef(domain.PrefixPurchase), MerchantRef: cus.MerchantRef,
		CustomerRef: cus.Ref, Plan: plan, Sandbox: c.sandbox(), Quantity: domain.Quantity(quantity)})
	if err != nil {
		return ActivateResult{}, err
	}
	return activated(plan, s, Activated, "")
}

// orConflict is err, or a CONFLICT that makes ActivatePlan look again once the purchase another
// call was activating has its outcome.
func orConflict(err error, live domain.Purchase) error {
	if err != nil {
		return err
	}
	return liveConflict(live)
}

// activated answers the state of the purchase an activation started (status) or found.
func activated(plan domain.Plan, s workflows.State, status, previous string) (ActivateResult, error) {
	p := s.Projection()
	res := ActivateResult{Purchase: &p, PreviousPurchaseRef: previous}
	if s.Status == domain.PurchaseExpired { // the first payment failed
		res.Status, res.Message = PaymentRequired, "the first payment failed: "+s.EndReason
		return res, nil
	}
	if s.Status == domain.PurchasePending && s.Authenticating != nil {
		res.Status = AuthenticationRequired
		res.Message = fmt.Sprintf("the customer's bank asks them to confirm the first payment (3-D Secure) on its page (payUrl); the purchase starts once they do, by %s",
			s.Authenticating.Until.Format(time.RFC3339))
		return res, nil
	}
	res.Status, res.Message = status, fmt.Sprintf("activated plan %s (%s)", plan.Name, s.DisplayStatus())
	if status == AlreadyActive {
		res.Message = fmt.Sprintf("already on plan %s (%s)", plan.Name, s.DisplayStatus())
	}
	return res, nil
}

// activationPlan loads the plan to activate; msg explains why it cannot be.
func (c *Client) activationPlan(ctx context.Context, merchant, productRef, planRef string) (domain.Plan, string, error) {
	var plan domain.Plan
	var err error
	if planRef == "" {
		if productRef == "" {
			return plan, "productRef or planRef is required", nil
		}
		plan, err = c.Store.DefaultPlan(ctx, merchant, productRef)
	} else {
		plan, err = c.Store.GetPlan(ctx, merchant, planRef)
	}
	if e := domain.AsError(err); e != nil && e.Code == domain.CodeNotFound {
		return plan, e.Message, nil
	} else if err != nil {
		return plan, "", err
	}
	if productRef != "" && plan.ProductRef != productRef {
		return plan, fmt.Sprintf("plan %s does not belong to product %s", plan.Ref, productRef), nil
	}
	if plan.Status != domain.StatusActive {
		return plan, fmt.Sprintf("plan %s is %s", plan.Ref, plan.Status), nil
	}
	prd, err := c.Store.GetProduct(ctx, merchant, plan.ProductRef)
	if e := domain.AsError(err); e != nil && e.Code == domain.CodeNotFound {
		return plan, e.Message, nil
	} else if err != nil {
		return plan, "", err
	}
	if prd.Status != domain.StatusActive {
		return plan, fmt.Sprintf("product %s is %s", prd.Ref, prd.Status), nil
	}
	return plan, "", nil
}

// paymentNeeded applies seed 003's activation policy by plan type.
func paymentNeeded(plan domain.Plan, quantity int64, cus domain.Customer) (status, msg string) {
	if cus.Card != nil {
		return "", ""
	}
	switch plan.Type {
	case domain.PlanFree:
		return "", ""
	case domain.PlanUsageBased:
		if plan.SetupFee > 0 {
			return TopupRequired, "this pay-as-you-go plan has a setup fee: add a card or top up first"
		}
		return "", ""
	}
	price, _ := plan.SeatPrice(quantity) // checked by ActivatePlan
	if price+plan.SetupFee == 0 {
		return "", ""
	}
	return PaymentRequired, fmt.Sprintf("plan %s costs %d %s: the customer has no card on file; send them to checkout",
		plan.Name, price+plan.SetupFee, plan.Currency)
}

// PaymentMethodUpdated retries the unpaid renewals of a customer whose card just changed:
// every past-due or suspended purchase is charged again at once. It answers the states after.
func (c *Client) PaymentMethodUpdated(ctx context.Context, merchant, customerRef string) ([]workflows.State, error) {
	var out []workflows.State
	for _, status := range []domain.PurchaseStatus{domain.PurchasePastDue, domain.PurchaseSuspended} {
		list, _, err := c.Store.ListPurchases(ctx, merchant, store.PurchaseFilter{Status: status, CustomerRef: customerRef},
			store.Page{Page: 1, Limit: 100})
		if err != nil {
			return out, err
		}
		for _, p := range list {
			s, err := c.RetryPayment(ctx, merchant, p.Ref)
			if err != nil && domain.ErrorCode(err) != domain.CodePaymentRequired && domain.ErrorCode(err) != domain.CodeConflict {
				return out, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}
