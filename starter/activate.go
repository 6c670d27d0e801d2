package starter

import (
	"context"
	"fmt"

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
	Invalid         = "invalid"
)

// ActivateResult answers ActivatePlan. Purchase is set when a purchase is (or already was) live.
type ActivateResult struct {
	Status   string           `json:"status"`
	Message  string           `json:"message,omitempty"`
	Purchase *domain.Purchase `json:"purchase,omitempty"`
	// PreviousPurchaseRef is the purchase a plan switch expired.
	PreviousPurchaseRef string `json:"previousPurchaseRef,omitempty"`
}

// ActivatePlan activates a product for a customer on a plan (the product's default plan when
// planRef is empty) without checkout. Free plans always activate; usage-based plans activate
// at zero (topup_required when they carry a setup fee and no card is on file); recurring,
// hybrid and one-time plans need a card on file (payment_required). A customer already on
// another plan of the product is switched: the old purchase expires and a new one starts.
// A missing customer is an error; a bad plan or product is an `invalid` result.
func (c *Client) ActivatePlan(ctx context.Context, merchant, customerRef, productRef, planRef string) (ActivateResult, error) {
	cus, err := c.Store.GetCustomer(ctx, merchant, customerRef)
	if err != nil {
		return ActivateResult{}, err
	}
	plan, msg, err := c.activationPlan(ctx, merchant, productRef, planRef)
	if err != nil || msg != "" {
		return ActivateResult{Status: Invalid, Message: msg}, err
	}
	live, err := c.Store.LivePurchase(ctx, merchant, cus.Ref, plan.ProductRef)
	hasLive := err == nil
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		return ActivateResult{}, err
	}
	if hasLive && live.PlanRef == plan.Ref {
		return ActivateResult{Status: AlreadyActive, Message: fmt.Sprintf("already on plan %s (%s)", plan.Name, live.DisplayStatus()),
			Purchase: &live}, nil
	}
	if status, msg := paymentNeeded(plan, cus); status != "" {
		return ActivateResult{Status: status, Message: msg}, nil
	}
	var s workflows.State
	res := ActivateResult{}
	if hasLive {
		sw, err := c.ChangePlan(ctx, merchant, live.Ref, plan.Ref)
		if err != nil {
			return ActivateResult{}, err
		}
		s, res.PreviousPurchaseRef = sw.Purchase, live.Ref
	} else if s, err = c.Start(ctx, StartInput{MerchantRef: merchant, CustomerRef: cus.Ref, PlanRef: plan.Ref}); err != nil {
		return ActivateResult{}, err
	}
	p := s.Projection()
	res.Purchase = &p
	if s.Status == domain.PurchaseExpired { // the first payment failed
		res.Status, res.Message = PaymentRequired, "the first payment failed: "+s.EndReason
		return res, nil
	}
	res.Status, res.Message = Activated, fmt.Sprintf("activated plan %s (%s)", plan.Name, s.DisplayStatus())
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
func paymentNeeded(plan domain.Plan, cus domain.Customer) (status, msg string) {
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
	if plan.Price+plan.SetupFee == 0 {
		return "", ""
	}
	return PaymentRequired, fmt.Sprintf("plan %s costs %d %s: the customer has no card on file; send them to checkout",
		plan.Name, plan.Price+plan.SetupFee, plan.Currency)
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
