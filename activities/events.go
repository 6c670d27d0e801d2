package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/workflows"
)

var _ workflows.EventActivities = (*Activities)(nil)

// ResolveProcessorEvent finds the purchase a payment event is about from the payment's
// transaction, or applies a customer event: a detached card or a deleted processor customer
// is no longer on file, so the next charge asks for a card instead of failing at the processor.
func (a *Activities) ResolveProcessorEvent(ctx context.Context, in workflows.ProcessorEventInput) (workflows.ResolvedEvent, error) {
	switch {
	case in.PaymentMethod != "":
		n, err := a.Store.ForgetPaymentMethod(ctx, in.PaymentMethod)
		if err != nil {
			return workflows.ResolvedEvent{}, err
		}
		return workflows.ResolvedEvent{Outcome: fmt.Sprintf("card %s removed from %d customers", in.PaymentMethod, n)}, nil
	case in.ProcessorCustomer != "":
		n, err := a.Store.ForgetProcessorCustomer(ctx, in.ProcessorCustomer)
		if err != nil {
			return workflows.ResolvedEvent{}, err
		}
		return workflows.ResolvedEvent{Outcome: fmt.Sprintf("processor customer %s removed from %d customers", in.ProcessorCustomer, n)}, nil
	case in.PaymentRef == "":
		return workflows.ResolvedEvent{Outcome: "ignored: the event names no payment"}, nil
	}
	txn, err := a.Store.PaymentByProcessorRef(ctx, in.Processor, in.PaymentRef)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound && in.Ours:
		// a charge Tollgate made whose answer is still on its way to the workflow
		return workflows.ResolvedEvent{}, temporal.NewApplicationError(
			fmt.Sprintf("payment %s carries Tollgate's key but is not recorded yet", in.PaymentRef), workflows.ErrTypeNotYetRecorded)
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return workflows.ResolvedEvent{Outcome: "ignored: " + in.PaymentRef + " is not a payment Tollgate made"}, nil
	case err != nil:
		return workflows.ResolvedEvent{}, err
	}
	return workflows.ResolvedEvent{PurchaseRef: txn.PurchaseRef, MerchantRef: txn.MerchantRef,
		Outcome: "signalled purchase " + txn.PurchaseRef}, nil
}

// FinishProcessorEvent records the event's outcome.
func (a *Activities) FinishProcessorEvent(ctx context.Context, in workflows.FinishEventInput) error {
	return a.Store.FinishProcessorEvent(ctx, in.EventID, in.Outcome)
}

// LookupPayment refetches a payment from the processor of the purchase's mode.
func (a *Activities) LookupPayment(ctx context.Context, in workflows.LookupPaymentInput) (payments.PaymentFacts, error) {
	pay, err := a.checkRecorded(ctx, moneyMove{action: "lookup", merchant: in.MerchantRef, purchase: in.PurchaseRef,
		cus: in.CustomerRef, terms: in.Terms})
	if err != nil {
		return payments.PaymentFacts{}, err
	}
	lk, ok := pay.(payments.PaymentLookup)
	if !ok {
		return payments.PaymentFacts{}, temporal.NewNonRetryableApplicationError(
			"the "+pay.Name()+" processor cannot look payments up", workflows.ErrTypeInvalidRequest, nil)
	}
	facts, err := lk.LookupPayment(ctx, in.PaymentRef)
	return facts, temporalError(err)
}

// SettlePayment moves a pending payment transaction to succeeded or failed.
func (a *Activities) SettlePayment(ctx context.Context, in workflows.SettlePaymentInput) error {
	if _, err := a.checkRecorded(ctx, moneyMove{action: "settle", merchant: in.MerchantRef, purchase: in.PurchaseRef,
		cus: in.CustomerRef, terms: in.Terms}); err != nil {
		return err
	}
	return temporalError(a.Store.SettleTransaction(ctx, in.MerchantRef, in.TxnRef, in.Status, in.FailureCode))
}

// RecordProcessorRefund records money returned outside Tollgate as a txn_ refund, once per key.
func (a *Activities) RecordProcessorRefund(ctx context.Context, in workflows.RecordRefundInput) (workflows.RecordRefundResult, error) {
	pay, err := a.checkRecorded(ctx, moneyMove{action: "record_refund", merchant: in.MerchantRef, purchase: in.PurchaseRef,
		cus: in.CustomerRef, terms: in.Terms, idempotencyKey: in.Key, amount: in.Amount, currency: in.Currency})
	if err != nil {
		return workflows.RecordRefundResult{}, err
	}
	out, _, err := a.Store.InsertTransaction(ctx, domain.Transaction{MerchantRef: in.MerchantRef, Kind: domain.TxnRefund,
		Status: domain.TxnSucceeded, Amount: in.Amount, Currency: in.Currency, PurchaseRef: in.PurchaseRef,
		CustomerRef: in.CustomerRef, ProductRef: in.ProductRef, SourceRef: in.SourceTxnRef, Period: in.Period,
		Reason: in.Reason, IdempotencyKey: in.Key, Processor: pay.Name(), ProcessorRef: in.ProcessorRef})
	if err != nil {
		return workflows.RecordRefundResult{}, temporalError(err)
	}
	return workflows.RecordRefundResult{TxnRef: out.Ref}, nil
}
