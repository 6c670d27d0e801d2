package starter

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
	"github.com/tollgate-billing/tollgate/workflows"
)

// ChangePlanRequest asks for a plan change of a purchase (workflows/planchange.go), a change of
// its seats, or both.
type ChangePlanRequest struct {
	// PlanRef is the plan to move to; empty (or the purchase's own) keeps the plan as bought.
	PlanRef string
	// Quantity is the seats after the change; 0 keeps the purchase's (1 on a plan not per seat).
	Quantity int64
	// ProrationBehavior: create_prorations (default), none, always_invoice.
	ProrationBehavior string
	// Effective: now or period_end; empty: now for an upgrade, period_end for a downgrade.
	Effective string
	// ProrationDate prices the change at a preview's instant, so both agree to the minor unit.
	ProrationDate *time.Time
	// RequestKey names the request (the caller's Idempotency-Key): the same key again answers
	// the same change. Empty: the request itself (from plan, to plan, the purchase's change count).
	RequestKey string
}

// ChangePlanResult is the purchase before and after the change, and the change: made now
// (Change) or scheduled for the period end (Scheduled).
type ChangePlanResult struct {
	Previous  workflows.State
	Purchase  workflows.State
	Change    *workflows.PlanChange
	Scheduled *workflows.ScheduledChange
}

// ChangePlan changes the plan of a purchase inside its workflow: an upgrade now, prorated and
// charged at once (a decline is PAYMENT_REQUIRED and changes nothing), a downgrade at the period
// end. The new plan's terms are recorded before the workflow is asked, so its charge passes
// the worker's check. A retried call with the same request key answers the same change.
func (c *Client) ChangePlan(ctx context.Context, merchant, purchaseRef string, req ChangePlanRequest) (ChangePlanResult, error) {
	var res ChangePlanResult
	in, cur, err := c.changeInput(ctx, merchant, purchaseRef, req)
	if err != nil {
		return res, err
	}
	plan, seats := cur.ChangeTarget(in)
	if err := c.recordTerms(ctx, workflows.PurchaseInput{PurchaseRef: purchaseRef, MerchantRef: merchant,
		CustomerRef: cur.CustomerRef, Plan: plan, Sandbox: cur.Sandbox, Quantity: seats}); err != nil {
		return res, err
	}
	if in.ProrationBehavior == workflows.ProrateAlwaysInvoice { // a net credit is refunded at once
		detail, _ := json.Marshal(in)
		if err := c.Store.RecordGrant(ctx, store.Grant{MerchantRef: merchant, PurchaseRef: purchaseRef, Kind: store.GrantRefund,
			Key: workflows.RefundGrantKey(workflows.ChangeRefundKey(in.RequestKey), "", 0), Detail: detail}); err != nil {
			return res, err
		}
	}
	res.Previous = cur
	// changeInput read the purchase as merchant's (State): the update goes straight to its workflow
	if err := c.send(ctx, purchaseRef, workflows.UpdateChangePlan, "change-plan/"+in.RequestKey, in, &res.Purchase); err != nil {
		return res, c.refusal(ctx, merchant, purchaseRef, workflows.UpdateChangePlan, err)
	}
	if lc := res.Purchase.LastChange; lc != nil && lc.Key == in.RequestKey {
		res.Change = lc
	}
	if sc := res.Purchase.ScheduledChange; sc != nil && sc.Key == in.RequestKey {
		res.Scheduled = sc
	}
	return res, nil
}

// PreviewChange answers what ChangePlan would settle now and at the next renewal, changing
// nothing: the workflow's own computation (workflows.QuoteChange) on the state its query
// answers, at the purchase's clock now. Its ProrationDate passed back to ChangePlan makes the
// change settle exactly these lines.
func (c *Client) PreviewChange(ctx context.Context, merchant, purchaseRef string, req ChangePlanRequest) (workflows.ChangeQuote, error) {
	in, cur, err := c.changeInput(ctx, merchant, purchaseRef, req)
	if err != nil {
		return workflows.ChangeQuote{}, err
	}
	if cur.Plan.Metered() && cur.Status != domain.PurchaseTrialing { // the usage a change now would bill
		u := cur.UsageBill()
		units, err := usage.UnbilledUnits(ctx, c.Store.Pool, usage.Bill{MerchantRef: u.MerchantRef, CustomerRef: u.CustomerRef,
			ProductRef: u.ProductRef, Meter: u.Meter, Since: u.Since, PeriodStart: u.PeriodStart})
		if err != nil {
			return workflows.ChangeQuote{}, err
		}
		cur.UnitsOwed += units
	}
	q, err := workflows.QuoteChange(cur, in, time.Now().Add(cur.ClockOffset).UTC())
	if err != nil {
		return q, c.refusal(ctx, merchant, purchaseRef, "preview", err)
	}
	return q, nil
}

// CancelScheduledChange drops the change scheduled for the period end.
func (c *Client) CancelScheduledChange(ctx context.Context, merchant, purchaseRef string) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdateCancelScheduledChange, workflows.CancelScheduledChangeInput{})
}

// changeInput loads the plan and the purchase's state and names the request. A change of seats
// alone (no plan, or the purchase's own) keeps the plan as the purchase bought it, not as the
// catalog has it now.
func (c *Client) changeInput(ctx context.Context, merchant, purchaseRef string, req ChangePlanRequest) (workflows.ChangePlanInput, workflows.State, error) {
	cur, err := c.State(ctx, merchant, purchaseRef)
	if err != nil {
		return workflows.ChangePlanInput{}, cur, err
	}
	plan := cur.Plan
	if req.PlanRef != "" && req.PlanRef != cur.Plan.Ref {
		if plan, err = c.Store.GetPlan(ctx, merchant, req.PlanRef); err != nil {
			return workflows.ChangePlanInput{}, cur, inPlanRef(err)
		}
	}
	in := workflows.ChangePlanInput{NewPlan: plan, Quantity: req.Quantity}
	if target, seats := cur.ChangeTarget(in); req.Quantity != 0 || target.PerSeat { // refused before anything is recorded
		if err := target.CheckQuantity(seats); err != nil {
			return in, cur, err
		}
	}
	key := req.RequestKey
	switch {
	case key != "":
	case req.Quantity != 0:
		key = fmt.Sprintf("%s>%s×%d#%d", cur.Plan.Ref, plan.Ref, req.Quantity, cur.ChangeSeq)
	default:
		key = fmt.Sprintf("%s>%s#%d", cur.Plan.Ref, plan.Ref, cur.ChangeSeq)
	}
	in.RequestKey, in.ProrationBehavior, in.Effective, in.ProrationDate = key, req.ProrationBehavior, req.Effective, req.ProrationDate
	return in, cur, nil
}

func inPlanRef(err error) error {
	if e := domain.AsError(err); e != nil && e.Field == "" {
		e.Field = "planRef"
	}
	return err
}
