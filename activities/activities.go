// Package activities is everything the purchase workflow does to the world: Postgres writes
// (projection, transactions, audit) and payments. Each method is one Temporal activity.
package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/metrics"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Activities holds the dependencies of the purchase activities.
type Activities struct {
	Store *store.Store
	// Payments moves live purchases' money (Stripe when configured).
	Payments payments.Processor
	// Sandbox moves sandbox purchases' money; nil when Payments is itself the sandbox.
	Sandbox payments.Processor
	// Accounts are the merchants' own Stripe accounts: a merchant that has one has its live
	// purchases' money moved there, not with Payments (processors.Accounts); nil: none.
	Accounts *processors.Accounts
}

// New is the activities of a deployment whose processors are modes (processors.Split): sandbox
// purchases use its sandbox and live ones its live processor; on a deployment without one (no
// Stripe key) a live purchase's charges are configuration faults, retried until it has one,
// never settled in the sandbox.
func New(st *store.Store, modes processors.ByMode) *Activities {
	a := &Activities{Store: st, Payments: modes.Live, Sandbox: modes.Sandbox, Accounts: modes.Merchants}
	if a.Payments == nil {
		a.Payments = noLive
	}
	return a
}

// The workflow names its activities through workflows.Activities: a renamed method breaks here.
var _ workflows.Activities = (*Activities)(nil)

// Project writes the purchase projection and the step's audit row in one transaction. A write
// older than the stored one (a late retry) leaves the projection as it is.
func (a *Activities) Project(ctx context.Context, in workflows.ProjectInput) error {
	in.Purchase.MerchantRef, in.Purchase.Seq, in.Purchase.StepAt = in.MerchantRef, in.Seq, in.StepAt
	if _, err := a.checkRecorded(ctx, moneyMove{action: "projection", merchant: in.MerchantRef, purchase: in.Purchase.Ref,
		cus: in.Purchase.CustomerRef, terms: in.Terms}); err != nil {
		return err
	}
	var audit *store.AuditEntry
	if in.Audit != nil {
		var data json.RawMessage
		if in.Audit.Detail != "" {
			data, _ = json.Marshal(map[string]any{"detail": in.Audit.Detail, "period": in.Purchase.Period})
		}
		audit = &store.AuditEntry{MerchantRef: in.Purchase.MerchantRef, ObjectType: "purchase", ObjectRef: in.Purchase.Ref,
			Action: in.Audit.Action, FromStatus: in.Audit.FromStatus, ToStatus: in.Audit.ToStatus, Seq: in.Purchase.Seq, StepAt: in.StepAt,
			Actor: in.Audit.Actor, Data: data}
	}
	_, err := a.Store.ProjectPurchase(ctx, in.Purchase, audit)
	return temporalError(err)
}

// Charge takes a payment with the card the workflow chose (in.PaymentMethod; the customer's
// default for inputs that predate the choice). The processor and Postgres both see
// in.IdempotencyKey. Every attempt that follows another — a retried activity, or a new round
// the workflow asks for with LookUpFirst — first looks the charge up at the processor and
// adopts what it finds: the processor's memory of the key cannot be trusted after a 500, a
// timeout or a day. Every outcome is a txn_ row, failed charges included with their code.
func (a *Activities) Charge(ctx context.Context, in workflows.ChargeInput) (workflows.ChargeResult, error) {
	defer keepAlive(ctx)()
	pay, sandbox, err := a.checkRecordedMode(ctx, moneyMove{action: "charge", merchant: in.MerchantRef, purchase: in.PurchaseRef,
		cus: in.CustomerRef, terms: in.Terms, idempotencyKey: in.IdempotencyKey, amount: in.Amount, currency: in.Currency})
	if err != nil {
		return workflows.ChargeResult{}, err
	}
	// the tax of the customer's country, computed on the first attempt and kept under the key:
	// every attempt charges the same total, and the invoice splits it the same way
	tax, err := a.Store.ChargeTax(ctx, store.ChargeTaxInput{MerchantRef: in.MerchantRef, Mode: domain.ModeOf(sandbox),
		CustomerRef: in.CustomerRef, IdempotencyKey: in.IdempotencyKey, Amount: in.Amount})
	if err != nil {
		return workflows.ChargeResult{}, temporalError(err)
	}
	in.Amount = tax.Total
	txn := domain.Transaction{MerchantRef: in.MerchantRef, Kind: domain.TxnPayment, Amount: in.Amount,
		Currency: in.Currency, PurchaseRef: in.PurchaseRef, CustomerRef: in.CustomerRef, ProductRef: in.ProductRef,
		Period: in.Period, Reason: in.Description, IdempotencyKey: in.IdempotencyKey, Processor: pay.Name(), OccurredAt: in.At,
		PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodEnd}
	pm, processorCustomer, err := a.Store.CustomerPaymentTarget(ctx, in.MerchantRef, in.CustomerRef)
	if err != nil {
		return workflows.ChargeResult{}, temporalError(err)
	}
	if in.PaymentMethod != "" {
		pm = in.PaymentMethod
	}
	if pm == "" {
		return workflows.ChargeResult{}, a.failCharge(ctx, txn, &payments.DeclineError{Code: "payment_method_missing",
			Message: "The customer has no payment method on file."})
	}
	processorCustomer, err = pay.EnsureCustomer(ctx, payments.CustomerInput{MerchantRef: in.MerchantRef,
		CustomerRef: in.CustomerRef, ExistingID: processorCustomer})
	if err != nil {
		return workflows.ChargeResult{}, a.chargeError(ctx, txn, err)
	}
	res, err := lookUpOrCharge(ctx, pay, in, payments.ChargeInput{IdempotencyKey: in.IdempotencyKey,
		ProcessorCustomerID: processorCustomer, PaymentMethod: pm, Amount: in.Amount, Currency: in.Currency,
		Description: in.Description, At: in.At, Metadata: map[string]string{"purchaseRef": in.PurchaseRef,
			"period": fmt.Sprint(in.Period)}})
	if err != nil {
		txn.ProcessorRef = res.ProcessorRef // a declined payment's id: a webhook about it finds it
		return workflows.ChargeResult{}, a.chargeError(ctx, txn, err)
	}
	txn.Status, txn.ProcessorRef = domain.TxnSucceeded, res.ProcessorRef
	if res.Status == payments.PaymentProcessing { // not paid until it settles (a webhook says how)
		txn.Status = domain.TxnPending
	}
	out, _, err := a.Store.InsertTransaction(ctx, txn)
	if err != nil {
		return workflows.ChargeResult{}, err // retried: the lookup finds the charge just made
	}
	metrics.Charges.WithLabelValues(map[bool]string{true: "processing", false: "succeeded"}[txn.Status == domain.TxnPending]).Inc()
	return workflows.ChargeResult{TxnRef: out.Ref, ProcessorRef: out.ProcessorRef, Amount: out.Amount,
		Processing: out.Status == domain.TxnPending}, nil
}

// lookUpOrCharge charges, unless an earlier attempt may have charged already: then the charge
// found under the key is the answer, and only a key the processor never saw charges.
func lookUpOrCharge(ctx context.Context, pay payments.Processor, in workflows.ChargeInput, c payments.ChargeInput) (payments.ChargeResult, error) {
	if in.LookUpFirst || (activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1) {
		res, found, err := pay.FindCharge(ctx, payments.FindChargeInput{IdempotencyKey: c.IdempotencyKey,
			ProcessorCustomerID: c.ProcessorCustomerID})
		if found || err != nil {
			return res, err
		}
	}
	return pay.Charge(ctx, c)
}

// chargeError records a decline as a failed transaction and makes it non-retryable; a fault
// (ours or the processor's) or an unknown outcome is logged and retried, never recorded as a
// failure of the customer's card.
func (a *Activities) chargeError(ctx context.Context, txn domain.Transaction, err error) error {
	kind, d := classifyCharge(err)
	if kind == chargeDeclined {
		return a.failCharge(ctx, txn, d)
	}
	metrics.Charges.WithLabelValues(kind.String()).Inc()
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn("charge not settled; retrying", "kind", kind.String(), "key", txn.IdempotencyKey,
			"processor", txn.Processor, "error", err)
	}
	// /readyz reports it; a Postgres that is down is itself the fault, so its error is dropped
	_ = a.Store.RecordPaymentFault(ctx, txn.Processor, kind.String(), err.Error())
	return retryableChargeError(kind, err)
}

func (a *Activities) failCharge(ctx context.Context, txn domain.Transaction, d *payments.DeclineError) error {
	txn.Status, txn.FailureCode, txn.FailureMessage = domain.TxnFailed, d.Code, d.Message
	out, _, err := a.Store.InsertTransaction(ctx, txn)
	if err != nil {
		return err // retried; the processor declines the same key the same way
	}
	if d.Code == payments.CodeAuthenticationRequired && out.ProcessorRef != "" && out.PurchaseRef != "" {
		// the payment stays open at the processor: the customer completes it on /pay/<token>
		_, err := a.Store.RecordPaymentAuthentication(ctx, store.PaymentAuthentication{MerchantRef: out.MerchantRef,
			PurchaseRef: out.PurchaseRef, CustomerRef: out.CustomerRef, TxnRef: out.Ref, Processor: out.Processor,
			PaymentRef: out.ProcessorRef, Amount: out.Amount, Currency: out.Currency})
		if err != nil {
			return err
		}
	}
	metrics.Charges.WithLabelValues("declined").Inc()
	return declineError(d, out.Ref, out.ProcessorRef, out.Amount)
}

// RefundPayment returns money of one of the purchase's payments under the refund's key. Postgres
// decides first (store.ReserveRefund): the payment must be the purchase's, and the refund fit in
// what is left of it, counting refunds under way; the reservation is a pending refund row. Then
// the processor refunds under the same key, refusing a payment past its refund window on the
// purchase's clock (in.At), and the row succeeds — or, refused for good, is dropped, and nothing
// changed. A retried activity finds its own reservation and the processor's answer under the key.
func (a *Activities) RefundPayment(ctx context.Context, in workflows.RefundPaymentInput) (workflows.RefundPaymentResult, error) {
	defer keepAlive(ctx)()
	pay, err := a.checkRecorded(ctx, moneyMove{action: "refund", merchant: in.MerchantRef, purchase: in.PurchaseRef,
		cus: in.CustomerRef, terms: in.Terms, idempotencyKey: in.IdempotencyKey, amount: in.Amount, currency: in.Currency,
		refundGrantKey: workflows.RefundGrantKey(in.Request.RequestKey, in.Request.TransactionRef, in.Request.Amount)})
	if err != nil {
		return workflows.RefundPaymentResult{}, err
	}
	refund, payment, err := a.Store.ReserveRefund(ctx, store.RefundReservation{MerchantRef: in.MerchantRef,
		PurchaseRef: in.PurchaseRef, PaymentRef: in.SourceTxnRef, Amount: in.Amount, IdempotencyKey: in.IdempotencyKey,
		Reason: in.Reason, Processor: pay.Name(), OccurredAt: in.At})
	if err != nil {
		return workflows.RefundPaymentResult{}, temporalError(err)
	}
	out := workflows.RefundPaymentResult{TxnRef: refund.Ref, ProcessorRef: refund.ProcessorRef, Amount: refund.Amount}
	if refund.Status == domain.TxnSucceeded {
		out.Replayed = true
		return out, nil
	}
	res, err := pay.Refund(ctx, payments.RefundInput{IdempotencyKey: in.IdempotencyKey, ChargeRef: payment.ProcessorRef,
		Amount: refund.Amount, Currency: payment.Currency, Reason: in.Reason, At: in.At})
	if d, ok := payments.IsDecline(err); ok { // final: nothing was refunded
		metrics.Refunds.WithLabelValues("refused").Inc()
		if err := a.Store.ReleaseRefund(ctx, in.MerchantRef, refund.Ref); err != nil {
			return out, err
		}
		if d.Code == payments.CodeChargeExpiredForRefund {
			return out, temporalError(domain.RefundWindowClosed(payment.Ref, payment.OccurredAt))
		}
		return out, temporalError(err)
	}
	if err != nil {
		metrics.Refunds.WithLabelValues("error").Inc()
		return out, temporalError(err)
	}
	var onPurchase *store.AuditEntry
	if in.OnClosedPurchase {
		onPurchase = &store.AuditEntry{Action: "refund", Actor: "workflow"}
	}
	settled, err := a.Store.SettleRefund(ctx, in.MerchantRef, refund.Ref, res.ProcessorRef, onPurchase)
	if err != nil {
		return out, err
	}
	out.ProcessorRef = settled.ProcessorRef
	metrics.Refunds.WithLabelValues("succeeded").Inc()
	return out, nil
}

// PaymentMethod reads the customer's default payment method, which the workflow binds a charge to.
func (a *Activities) PaymentMethod(ctx context.Context, in workflows.PaymentMethodInput) (workflows.PaymentMethodResult, error) {
	pm, _, err := a.Store.CustomerPaymentTarget(ctx, in.MerchantRef, in.CustomerRef)
	return workflows.PaymentMethodResult{PaymentMethod: pm}, temporalError(err)
}

// UsageForPeriod bills the usage of the period that ends (usage.BillPeriod).
func (a *Activities) UsageForPeriod(ctx context.Context, in workflows.UsageInput) (workflows.UsageResult, error) {
	units, err := usage.BillPeriod(ctx, a.Store.Pool, usage.Bill{MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef,
		ProductRef: in.ProductRef, Meter: in.Meter, Since: in.Since, PeriodStart: in.PeriodStart, Key: in.Key})
	return workflows.UsageResult{Units: units}, temporalError(err)
}

// DunningPolicy reads the merchant's retry schedule and grace period.
func (a *Activities) DunningPolicy(ctx context.Context, in workflows.DunningPolicyInput) (workflows.DunningPolicy, error) {
	m, err := a.Store.GetMerchant(ctx, in.MerchantRef)
	if err != nil {
		return workflows.DunningPolicy{}, temporalError(err)
	}
	d := m.Dunning()
	return workflows.DunningPolicy{RetryDays: d.RetryDays, GraceDays: d.GraceDays, DisputeAccess: m.DisputeAccess}, nil
}
