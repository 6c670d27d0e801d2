package web_test

import (
	"context"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/web"
)

// fakeLifecycle stands in for the purchase workflow in tests that are about the pages: it
// charges the first period through the real processor and writes the Postgres projection the
// way the workflow does, and refuses what the workflow's validators refuse.
type fakeLifecycle struct {
	st  *store.Store
	pay payments.Processor
	// noCharge activates without charging (stripe-mock cannot confirm a payment).
	noCharge bool

	mu     sync.Mutex
	starts map[string]int // purchase ref → Start calls that found it new
	calls  map[string]int // purchase ref → Start calls
	state  map[string]*fakePurchase
}

type fakePurchase struct {
	in    web.StartInput
	p     domain.Purchase
	state web.PurchaseState
}

func newFakeLifecycle(st *store.Store, pay payments.Processor) *fakeLifecycle {
	return &fakeLifecycle{st: st, pay: pay, starts: map[string]int{}, calls: map[string]int{}, state: map[string]*fakePurchase{}}
}

func (f *fakeLifecycle) Start(ctx context.Context, in web.StartInput) (web.PurchaseState, error) {
	err := f.start(ctx, in)
	st, _ := f.State(ctx, in.MerchantRef, in.PurchaseRef)
	return st, err
}

func (f *fakeLifecycle) start(ctx context.Context, in web.StartInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[in.PurchaseRef]++
	if _, ok := f.state[in.PurchaseRef]; ok {
		return nil
	}
	f.starts[in.PurchaseRef]++
	now := time.Now().UTC().Truncate(time.Second)
	fp := &fakePurchase{in: in, p: domain.Purchase{Ref: in.PurchaseRef, MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef,
		ProductRef: in.ProductRef, PlanRef: in.Plan.Ref, PlanName: in.Plan.Name, PlanType: in.Plan.Type, Amount: in.Plan.Price,
		Currency: in.Plan.Currency, BillingCycle: in.Plan.BillingCycle, StartedAt: &now, Sandbox: in.Sandbox}}
	f.state[in.PurchaseRef] = fp
	if err := f.write(ctx, fp, domain.PurchasePending); err != nil {
		return err
	}
	if code := f.firstCharge(ctx, fp); code != "" {
		fp.state.EndReason = "first_payment_failed: " + code
		fp.p.EndedAt = &now
		return f.write(ctx, fp, domain.PurchaseExpired)
	}
	end := in.Plan.PeriodEnd(now)
	fp.p.Period, fp.p.CurrentPeriodStart, fp.p.CurrentPeriodEnd, fp.p.NextBillingAt = 1, &now, &end, &end
	return f.write(ctx, fp, domain.PurchaseActive)
}

func (f *fakeLifecycle) firstCharge(ctx context.Context, fp *fakePurchase) string {
	if f.noCharge {
		return ""
	}
	return f.charge(ctx, fp, 1, fp.in.Plan.Price)
}

// charge takes a payment with the customer's card and records it; it answers the decline code.
func (f *fakeLifecycle) charge(ctx context.Context, fp *fakePurchase, period int, amount int64) string {
	c, _ := f.st.GetCustomer(ctx, fp.in.MerchantRef, fp.in.CustomerRef)
	pcus, _ := f.st.ProcessorCustomerID(ctx, fp.in.MerchantRef, fp.in.CustomerRef)
	pm := ""
	if c.Card != nil {
		pm = c.Card.PaymentMethod
	}
	key := fp.p.Ref + "/period-" + string(rune('0'+period)) + "/charge-" + time.Now().Format("150405.000000")
	res, err := f.pay.Charge(ctx, payments.ChargeInput{IdempotencyKey: key, ProcessorCustomerID: pcus, PaymentMethod: pm,
		Amount: amount, Currency: fp.in.Plan.Currency})
	txn := domain.Transaction{MerchantRef: fp.in.MerchantRef, Kind: domain.TxnPayment, Status: domain.TxnSucceeded, Amount: amount,
		Currency: fp.in.Plan.Currency, PurchaseRef: fp.p.Ref, CustomerRef: fp.in.CustomerRef, ProductRef: fp.in.ProductRef,
		Period: period, IdempotencyKey: key, Processor: f.pay.Name(), ProcessorRef: res.ProcessorRef}
	code := ""
	if d, ok := payments.IsDecline(err); ok {
		code = d.Code
		txn.Status, txn.FailureCode, txn.FailureMessage = domain.TxnFailed, d.Code, d.Message
	} else if err != nil {
		code = "processing_error"
		txn.Status, txn.FailureCode = domain.TxnFailed, code
	} else {
		fp.p.PaidTotal += amount
	}
	_, _, _ = f.st.InsertTransaction(ctx, txn)
	return code
}

func (f *fakeLifecycle) write(ctx context.Context, fp *fakePurchase, status domain.PurchaseStatus) error {
	fp.p.Status, fp.state.Status = status, status
	fp.p.Seq++
	_, err := f.st.UpsertPurchase(ctx, fp.p)
	return err
}

func (f *fakeLifecycle) State(ctx context.Context, merchantRef, purchaseRef string) (web.PurchaseState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, ok := f.state[purchaseRef]
	if !ok || fp.in.MerchantRef != merchantRef {
		return web.PurchaseState{}, domain.NotFound("purchase", purchaseRef)
	}
	return fp.state, nil
}

func (f *fakeLifecycle) get(merchantRef, ref string) (*fakePurchase, error) {
	fp, ok := f.state[ref]
	if !ok || fp.in.MerchantRef != merchantRef {
		return nil, domain.NotFound("purchase", ref)
	}
	return fp, nil
}

func (f *fakeLifecycle) CancelRenewal(ctx context.Context, merchantRef, ref, reason string) (web.PurchaseState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.get(merchantRef, ref)
	if err != nil {
		return web.PurchaseState{}, err
	}
	if fp.p.CancelledAt != nil {
		return fp.state, domain.Errorf(domain.CodeConflict, "", "cannot cancel: the renewal is already cancelled")
	}
	now := time.Now().UTC()
	fp.p.CancelledAt, fp.p.CancelReason, fp.p.NextBillingAt = &now, reason, nil
	return fp.state, f.write(ctx, fp, fp.p.Status)
}

func (f *fakeLifecycle) Reactivate(ctx context.Context, merchantRef, ref string) (web.PurchaseState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.get(merchantRef, ref)
	if err != nil {
		return web.PurchaseState{}, err
	}
	if fp.p.CancelledAt == nil {
		return fp.state, domain.Errorf(domain.CodeConflict, "", "cannot reactivate: the renewal is not cancelled")
	}
	fp.p.CancelledAt, fp.p.NextBillingAt = nil, fp.p.CurrentPeriodEnd
	return fp.state, f.write(ctx, fp, fp.p.Status)
}

func (f *fakeLifecycle) RetryPayment(ctx context.Context, merchantRef, ref string) (web.PurchaseState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.get(merchantRef, ref)
	if err != nil {
		return web.PurchaseState{}, err
	}
	if fp.p.Status != domain.PurchasePastDue && fp.p.Status != domain.PurchaseSuspended {
		return fp.state, domain.Errorf(domain.CodeConflict, "", "cannot retry: no payment is overdue")
	}
	if code := f.charge(ctx, fp, fp.p.Period, fp.in.Plan.Price); code != "" {
		fp.state.LastError = code
		return fp.state, nil
	}
	return fp.state, f.write(ctx, fp, domain.PurchaseActive)
}

// startCount is how many distinct workflows were started for ref.
func (f *fakeLifecycle) startCount(ref string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[ref]
}

// ChangePlan changes the live purchase to plan in place, as the workflow does.
func (f *fakeLifecycle) ChangePlan(ctx context.Context, merchantRef, ref string, plan domain.Plan, _ string) (web.PurchaseState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.get(merchantRef, ref)
	if err != nil {
		return web.PurchaseState{}, err
	}
	fp.in.Plan = plan
	fp.p.PlanRef, fp.p.PlanName, fp.p.PlanType, fp.p.Amount = plan.Ref, plan.Name, plan.Type, plan.Price
	return fp.state, f.write(ctx, fp, fp.p.Status)
}

// The page tests that switch plans run the real workflows; the fake refuses as a workflow would
// refuse a purchase that cannot change.
func (f *fakeLifecycle) PreviewChange(context.Context, string, string, string) (web.ChangePreview, error) {
	return web.ChangePreview{}, domain.Errorf(domain.CodeConflict, "", "cannot change plan in this test")
}

func (f *fakeLifecycle) ConfirmChange(context.Context, string, string, string, *time.Time) (web.PurchaseState, error) {
	return web.PurchaseState{}, domain.Errorf(domain.CodeConflict, "", "cannot change plan in this test")
}

func (f *fakeLifecycle) CancelScheduledChange(context.Context, string, string) (web.PurchaseState, error) {
	return web.PurchaseState{}, domain.Errorf(domain.CodeConflict, "", "no plan change is scheduled")
}
