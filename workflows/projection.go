package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// Projection is the Postgres row of a state.
func (s State) Projection() domain.Purchase {
	out := domain.Purchase{
		Ref: s.PurchaseRef, MerchantRef: s.MerchantRef, CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef,
		PlanRef: s.Plan.Ref, Status: s.Status, PlanName: s.Plan.Name, PlanType: s.Plan.Type, Amount: s.Plan.Price,
		Currency: s.Plan.Currency, BillingCycle: s.Plan.BillingCycle, CancelledAt: s.CancelledAt,
		CancelReason: s.CancelReason, StartedAt: timePtr(s.StartedAt), TrialEnd: s.TrialEnd, EndedAt: s.EndedAt,
		Period: s.Period, PaidTotal: s.PaidTotal, RefundedTotal: s.RefundedTotal, CarriedAmount: s.Carried, Sandbox: s.Sandbox, Seq: s.Seq,
		NextBillingAt: s.NextBillingAt(), Disputed: s.openDispute() != nil, PaymentProcessing: s.processing(),
		Quantity: s.seats(),
		Pause:    s.Pause,
	}
	if s.Dunning != nil {
		out.PastDueReason = s.Dunning.LastError
	}
	if s.DisputeHold && s.Status.HasAccess() { // no access while the dispute is open
		out.Status = domain.PurchaseSuspended
	}
	if sc := s.ScheduledChange; sc != nil {
		out.ScheduledChange = &domain.ScheduledChange{PlanRef: sc.Plan.Ref, PlanName: sc.Plan.Name, Amount: sc.Plan.Price,
			Currency: sc.Plan.Currency, BillingCycle: sc.Plan.BillingCycle, EffectiveAt: sc.At, Quantity: domain.Quantity(sc.Quantity)}
	}
	if s.Status != domain.PurchasePending && !(s.Status.Ended() && s.Period == 0 && s.TrialEnd == nil) {
		out.CurrentPeriodStart, out.CurrentPeriodEnd = timePtr(s.PeriodStart), timePtr(s.PeriodEnd)
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// syncSearchAttributes upserts the typed search attributes that differ from the workflow's
// current ones, so the Temporal UI can filter purchases by customer, product, plan, status and
// next billing time, and an unchanged state adds nothing to the history.
func (p *purchase) syncSearchAttributes(ctx workflow.Context) {
	s := p.state
	cur := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	for _, kw := range []struct {
		key temporal.SearchAttributeKeyKeyword
		val string
	}{
		{SACustomerRef, s.CustomerRef}, {SAProductRef, s.Plan.ProductRef}, {SAPlanRef, s.Plan.Ref},
		{SAMerchantRef, s.MerchantRef}, {SAPurchaseStatus, string(s.DisplayStatus())},
	} {
		if v, ok := cur.GetKeyword(kw.key); !ok || v != kw.val {
			updates = append(updates, kw.key.ValueSet(kw.val))
		}
	}
	next := s.NextBillingAt()
	cv, has := cur.GetTime(SANextBillingAt)
	switch {
	case next == nil && has:
		updates = append(updates, SANextBillingAt.ValueUnset())
	case next != nil && (!has || !cv.Equal(*next)):
		updates = append(updates, SANextBillingAt.ValueSet(*next))
	}
	if len(updates) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		// Search attributes serve the UI only; a namespace without them must not stop billing.
		p.log.Warn("upsert search attributes", "error", err)
	}
}
