package web

import (
	"context"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// FromStarter adapts the starter client to the pages' Lifecycle.
func FromStarter(c *starter.Client) Lifecycle { return starterLifecycle{c} }

type starterLifecycle struct{ c *starter.Client }

func (s starterLifecycle) Start(ctx context.Context, in StartInput) (PurchaseState, error) {
	st, err := s.c.ForMode(domain.ModeOf(in.Sandbox)).Start(ctx, starter.StartInput{MerchantRef: in.MerchantRef,
		CustomerRef: in.CustomerRef, PlanRef: in.Plan.Ref, PurchaseRef: in.PurchaseRef, Quantity: in.Quantity})
	return fromState(st), err
}

func (s starterLifecycle) State(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error) {
	st, err := s.c.State(ctx, merchantRef, purchaseRef)
	return fromState(st), err
}

func (s starterLifecycle) CancelRenewal(ctx context.Context, merchantRef, purchaseRef, reason string) (PurchaseState, error) {
	st, err := s.c.CancelRenewal(ctx, merchantRef, purchaseRef, reason)
	return fromState(st), err
}

func (s starterLifecycle) Reactivate(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error) {
	st, err := s.c.Reactivate(ctx, merchantRef, purchaseRef)
	return fromState(st), err
}

func (s starterLifecycle) RetryPayment(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error) {
	st, err := s.c.RetryPayment(ctx, merchantRef, purchaseRef)
	return fromState(st), err
}

func (s starterLifecycle) ChangePlan(ctx context.Context, merchantRef, purchaseRef string, plan domain.Plan, requestKey string) (PurchaseState, error) {
	res, err := s.c.ChangePlan(ctx, merchantRef, purchaseRef, starter.ChangePlanRequest{PlanRef: plan.Ref,
		Effective: workflows.EffectiveNow, RequestKey: requestKey})
	return fromState(res.Purchase), err
}

func (s starterLifecycle) PreviewChange(ctx context.Context, merchantRef, purchaseRef, planRef string) (ChangePreview, error) {
	q, err := s.c.PreviewChange(ctx, merchantRef, purchaseRef, starter.ChangePlanRequest{PlanRef: planRef})
	if err != nil {
		return ChangePreview{}, err
	}
	v := ChangePreview{Effective: q.Effective, EffectiveAt: q.At, Currency: q.Currency, Lines: q.Lines, Total: q.Total,
		Credit: q.CreditAfter, NextRenewalAt: q.NextRenewalAt, NextRenewal: q.NextRenewalTotal}
	if !q.ProrationDate.IsZero() {
		d := q.ProrationDate
		v.ProrationDate = &d
	}
	return v, nil
}

func (s starterLifecycle) ConfirmChange(ctx context.Context, merchantRef, purchaseRef, planRef string, prorationDate *time.Time) (PurchaseState, error) {
	res, err := s.c.ChangePlan(ctx, merchantRef, purchaseRef, starter.ChangePlanRequest{PlanRef: planRef, ProrationDate: prorationDate})
	return fromState(res.Purchase), err
}

func (s starterLifecycle) CancelScheduledChange(ctx context.Context, merchantRef, purchaseRef string) (PurchaseState, error) {
	st, err := s.c.CancelScheduledChange(ctx, merchantRef, purchaseRef)
	return fromState(st), err
}

func fromState(s workflows.State) PurchaseState {
	out := PurchaseState{Status: s.Status, EndReason: s.EndReason, Authenticating: s.Authenticating != nil}
	if s.Dunning != nil {
		out.LastError = s.Dunning.LastError
	}
	return out
}

func (s starterLifecycle) PaymentChanged(ctx context.Context, merchantRef, purchaseRef, paymentRef string) error {
	return s.c.PaymentChanged(ctx, merchantRef, purchaseRef, paymentRef)
}
