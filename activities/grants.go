package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// moneyMove is a charge, a refund or a projection write (which grants access) as a purchase
// workflow asks for it.
type moneyMove struct {
	action                   string // charge, refund, projection
	merchant, purchase, cus  string
	terms, idempotencyKey    string
	amount                   int64
	currency, refundGrantKey string // refundGrantKey only for refunds
}

// checkRecorded lets through only what the API asked for (workflows/terms.go): the workflow is
// the purchase's own (or, for a refund, a refund workflow of the purchase), its terms were recorded for this purchase, merchant and customer, and a
// refund's request was recorded too. Anything else is refused, never retried, with an audit row
// for the merchant's log; a Postgres fault is returned as is and retried. What it lets through
// moves money with the processor of the recorded terms' mode: a sandbox purchase never reaches
// a real processor, whatever else the worker is configured with.
func (a *Activities) checkRecorded(ctx context.Context, m moneyMove) (payments.Processor, error) {
	pay, _, err := a.checkRecordedMode(ctx, m)
	return pay, err
}

// checkRecordedMode is checkRecorded, and whether the recorded terms are the sandbox's.
func (a *Activities) checkRecordedMode(ctx context.Context, m moneyMove) (payments.Processor, bool, error) {
	reason, sandbox, err := a.unrecorded(ctx, m)
	if err != nil {
		return nil, false, err
	}
	if reason == "" {
		pay, err := a.processorOf(ctx, m.merchant, sandbox)
		return pay, sandbox, err
	}
	data, _ := json.Marshal(map[string]any{"reason": reason, "amount": m.amount, "currency": m.currency,
		"idempotencyKey": m.idempotencyKey, "workflowId": workflowID(ctx)})
	if err := a.Store.InsertAudit(ctx, store.AuditEntry{MerchantRef: m.merchant, ObjectType: "purchase", ObjectRef: m.purchase,
		Action: m.action + "_refused", Actor: "worker", Data: data}); err != nil {
		return nil, false, err
	}
	return nil, false, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s refused: %s", m.action, reason), workflows.ErrTypeNotRecorded, nil)
}

// processor is the sandbox for sandbox purchases (Sandbox, else Payments when that is the
// sandbox; never a real processor), and Payments for live ones.
func (a *Activities) processor(sandbox bool) payments.Processor {
	switch {
	case !sandbox:
		return a.Payments
	case a.Sandbox != nil:
		return a.Sandbox
	case a.Payments.Name() == "sandbox":
		return a.Payments
	}
	return noSandbox
}

// processorOf is processor for one merchant: its live purchases use its own Stripe account when
// it has one. An account this worker cannot open (no or another TOLLGATE_ENCRYPTION_KEY) is a
// configuration fault, retried — never the deployment's account, where its cards are not.
func (a *Activities) processorOf(ctx context.Context, merchant string, sandbox bool) (payments.Processor, error) {
	if sandbox {
		return a.processor(true), nil
	}
	acc, own, err := a.Accounts.Of(ctx, merchant)
	var pe *payments.ProcessorError
	switch {
	case errors.As(err, &pe):
		return unavailable{name: "stripe", err: pe}, nil
	case err != nil:
		return nil, err
	case own:
		return acc.Processor, nil
	}
	return a.processor(false), nil
}

// unrecorded says why m was not asked for by the API, or "" when it was, and the recorded
// terms' mode.
func (a *Activities) unrecorded(ctx context.Context, m moneyMove) (reason string, sandbox bool, err error) {
	if id := workflowID(ctx); id != "" && id != workflows.WorkflowID(m.purchase) &&
		!(m.action == "refund" && workflows.IsRefundWorkflowOf(id, m.purchase)) {
		return fmt.Sprintf("workflow %s is not purchase %s's", id, m.purchase), false, nil
	}
	g, ok, err := a.Store.FindGrant(ctx, m.purchase, store.GrantTerms, m.terms)
	if err != nil {
		return "", false, err
	}
	var t workflows.Terms
	if ok {
		_ = json.Unmarshal(g.Detail, &t)
	}
	if !ok || g.MerchantRef != m.merchant || t.CustomerRef != m.cus {
		return "the purchase's terms were not recorded by the API", false, nil
	}
	if m.refundGrantKey == "" {
		return "", t.Sandbox, nil
	}
	r, ok, err := a.Store.FindGrant(ctx, m.purchase, store.GrantRefund, m.refundGrantKey)
	if err != nil {
		return "", false, err
	}
	if !ok || r.MerchantRef != m.merchant {
		return "the refund was not requested through the API", false, nil
	}
	return "", t.Sandbox, nil
}

// workflowID is the ID of the workflow that runs the activity ("" outside one, as in tests that
// call an activity directly).
func workflowID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.ID
}

// unavailable stands in for a processor a worker does not have: a sandbox purchase on a worker
// with only a real processor, or a live one on a worker with only the sandbox. Every call is a
// configuration fault (retried, never a decline), and no money moves.
type unavailable struct {
	name string
	err  *payments.ProcessorError
}

var (
	noSandbox = unavailable{name: "sandbox", err: &payments.ProcessorError{Status: 403,
		Message: "this worker has no sandbox processor for a sandbox purchase"}}
	noLive = unavailable{name: "none", err: &payments.ProcessorError{Status: 403,
		Message: "this worker has no live processor for a live purchase: " + processors.ErrNoLive.Error()}}
)

func (u unavailable) Name() string { return u.name }
func (u unavailable) EnsureCustomer(context.Context, payments.CustomerInput) (string, error) {
	return "", u.err
}
func (u unavailable) AttachPaymentMethod(context.Context, payments.AttachInput) (payments.Card, error) {
	return payments.Card{}, u.err
}
func (u unavailable) Charge(context.Context, payments.ChargeInput) (payments.ChargeResult, error) {
	return payments.ChargeResult{}, u.err
}
func (u unavailable) FindCharge(context.Context, payments.FindChargeInput) (payments.ChargeResult, bool, error) {
	return payments.ChargeResult{}, false, u.err
}
func (u unavailable) LookupPayment(context.Context, string) (payments.PaymentFacts, error) {
	return payments.PaymentFacts{}, u.err
}
func (u unavailable) Refund(context.Context, payments.RefundInput) (payments.RefundResult, error) {
	return payments.RefundResult{}, u.err
}
