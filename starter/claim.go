package starter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A customer holds at most one live purchase of a product (store.ClaimPurchase). Every start
// claims first; a caller that loses the claim to a concurrent one gets that purchase, never a
// second one: ActivatePlan answers it (after its activation), checkout shows it, and Start
// answers LiveConflict.

// claimOf is the pending projection row a start claims.
func claimOf(in workflows.PurchaseInput) domain.Purchase {
	return domain.Purchase{Ref: in.PurchaseRef, MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef,
		ProductRef: in.Plan.ProductRef, PlanRef: in.Plan.Ref, PlanName: in.Plan.Name, PlanType: in.Plan.Type,
		Amount: in.Plan.Price, Currency: in.Plan.Currency, BillingCycle: in.Plan.BillingCycle, Sandbox: in.Sandbox,
		Quantity: domain.Quantity(in.Quantity)}
}

// liveConflict is the refusal of a start for a customer who already has live, a purchase of
// the same product.
func liveConflict(live domain.Purchase) error {
	return domain.Errorf(domain.CodeConflict, "productRef", "customer %s already has purchase %s of product %s (%s, plan %s)",
		live.CustomerRef, live.Ref, live.ProductRef, live.DisplayStatus(), live.PlanRef)
}

// awaitActivation waits until a live purchase has the outcome of its activation and answers
// its state. It reads the workflow's state rather than sending it an update: a workflow takes a
// bounded number of updates in flight, and every loser of a race would send one. A pending
// purchase whose workflow never started (its claimer stopped between the claim and the start)
// is started here, on the plan it was claimed for.
func (c *Client) awaitActivation(ctx context.Context, live domain.Purchase) (workflows.State, error) {
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		var s workflows.State
		v, err := c.Temporal.QueryWorkflow(ctx, workflows.WorkflowID(live.Ref), "", workflows.QueryState)
		if err == nil {
			err = v.Get(&s)
		}
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return c.startClaimed(ctx, live)
		case err != nil:
			return s, fmt.Errorf("read purchase %s: %w", live.Ref, err)
		case s.Status != domain.PurchasePending || s.Authenticating != nil: // an outcome, or the customer's turn
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// startClaimed starts the workflow of a claimed purchase on the plan and quantity it was claimed for.
func (c *Client) startClaimed(ctx context.Context, live domain.Purchase) (workflows.State, error) {
	plan, err := c.Store.GetPlan(ctx, live.MerchantRef, live.PlanRef)
	if err != nil {
		return workflows.State{}, err
	}
	return c.run(ctx, workflows.PurchaseInput{PurchaseRef: live.Ref, MerchantRef: live.MerchantRef,
		CustomerRef: live.CustomerRef, Plan: plan, Sandbox: live.Sandbox, Quantity: live.Quantity})
}
