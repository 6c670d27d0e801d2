package activities

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

var _ workflows.ReconcileActivities = (*Activities)(nil)

// ReconcileProcessors names the processors this worker can list: the sandbox, the live
// processor (Stripe) when there is one, and each merchant's own Stripe account
// ("stripe:mer_…", processors.Accounts) that this worker can open.
func (a *Activities) ReconcileProcessors(ctx context.Context) ([]string, error) {
	var names []string
	if _, ok := a.processor(true).(payments.PaymentLister); ok {
		names = append(names, "sandbox")
	}
	if a.Payments != nil && a.Payments.Name() != "sandbox" {
		if _, ok := a.Payments.(payments.PaymentLister); ok {
			names = append(names, a.Payments.Name())
		}
	}
	own, err := a.ownAccounts(ctx)
	return append(names, own...), err
}

// ownAccounts names the merchants' own Stripe accounts as ReconcileProcessors does. One this
// worker cannot open (no TOLLGATE_ENCRYPTION_KEY) is left out, with a warning: a run never
// waits on a configuration fault.
func (a *Activities) ownAccounts(ctx context.Context) ([]string, error) {
	if a.Accounts == nil {
		return nil, nil
	}
	stored, err := a.Store.ListMerchantStripe(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ms := range stored {
		acc, own, err := a.Accounts.Of(ctx, ms.MerchantRef)
		if err != nil {
			activityLogger(ctx).Warn("reconcile: a merchant's own Stripe account left out", "merchant", ms.MerchantRef, "error", err)
			continue
		}
		if _, ok := acc.Processor.(reconcilable); own && ok {
			names = append(names, acc.Processor.Name()+":"+ms.MerchantRef)
		}
	}
	return names, nil
}

// reconcilable is the processor named, which can list its payments and look one up.
type reconcilable interface {
	payments.Processor
	payments.PaymentLister
	payments.PaymentLookup
}

// reconcilable is the processor a run names and, for a merchant's own account, that merchant
// (else ""). A merchant's account removed since the run listed it is nil: nothing to do.
func (a *Activities) reconcilable(ctx context.Context, name string) (proc reconcilable, merchant string, err error) {
	var p payments.Processor
	processor, merchant, own := strings.Cut(name, ":")
	switch {
	case own && a.Accounts != nil:
		acc, ok, err := a.Accounts.Of(ctx, merchant)
		if err != nil || !ok {
			return nil, merchant, temporalError(err)
		}
		if acc.Processor.Name() == processor {
			p = acc.Processor
		}
	case name == "sandbox":
		p = a.processor(true)
	case a.Payments != nil && a.Payments.Name() == name:
		p = a.Payments
	}
	r, ok := p.(reconcilable)
	if !ok {
		return nil, "", temporal.NewNonRetryableApplicationError("this worker cannot reconcile processor "+name,
			workflows.ErrTypeInvalidRequest, nil)
	}
	return r, merchant, nil
}

// ReconcilePage reads one page of the processor's payments and matches each one that moved
// money, and each succeeded refund of it, to the ledger by the processor's id; what the ledger
// missed is adopted.
func (a *Activities) ReconcilePage(ctx context.Context, in workflows.ReconcilePageInput) (workflows.ReconcilePageResult, error) {
	proc, merchant, err := a.reconcilable(ctx, in.Processor)
	if err != nil || proc == nil {
		return workflows.ReconcilePageResult{}, err
	}
	page, err := proc.ListPayments(ctx, payments.ListPaymentsInput{Since: in.Since, Cursor: in.Cursor, Limit: in.PageSize})
	if err != nil {
		return workflows.ReconcilePageResult{}, temporalError(err)
	}
	r := &pageReconciler{a: a, processor: proc.Name(), merchant: merchant, log: activityLogger(ctx), touched: map[workflows.PaymentTouch]bool{}}
	r.out.Next = page.Next
	for _, lp := range page.Payments {
		if err := r.payment(ctx, lp); err != nil {
			return workflows.ReconcilePageResult{}, temporalError(err)
		}
	}
	if err := a.Store.MarkReconciled(ctx, r.found, in.RunAt); err != nil {
		return workflows.ReconcilePageResult{}, err
	}
	return r.out, nil
}

// pageReconciler reconciles the payments of one page.
type pageReconciler struct {
	a         *Activities
	processor string
	merchant  string // a merchant's own account: only that merchant's purchases are adopted
	log       sdklog.Logger
	out       workflows.ReconcilePageResult
	found     []string // ledger rows matched or adopted
	touched   map[workflows.PaymentTouch]bool
}

// Reasons written on adopted transactions.
const (
	reasonAdopted         = "adopted_by_reconciliation"
	reasonRefundedOutside = "refunded_outside_tollgate" // as the purchase workflow books one (processor_events.go)
)

func (r *pageReconciler) payment(ctx context.Context, lp payments.ListedPayment) error {
	if lp.Status != payments.PaymentSucceeded && lp.Status != payments.PaymentProcessing {
		return nil // moved no money: nothing to hold in the ledger
	}
	r.out.Seen++
	txn, err := r.a.Store.ProcessorTransaction(ctx, r.processor, domain.TxnPayment, lp.PaymentRef)
	switch {
	case err == nil && txn.Status != domain.TxnFailed:
		r.match(txn)
	case err == nil || domain.ErrorCode(err) == domain.CodeNotFound: // absent, or recorded as a decline
		var ok bool
		if txn, ok, err = r.adoptPayment(ctx, lp); err != nil {
			return err
		}
		if !ok {
			r.out.Skipped++
			for _, rf := range lp.Refunds {
				if rf.Status == "succeeded" {
					r.out.Seen++
					r.out.Skipped++
				}
			}
			return nil
		}
	default:
		return err
	}
	for _, rf := range lp.Refunds {
		if err := r.refund(ctx, &txn, lp, rf); err != nil {
			return err
		}
	}
	return nil
}

func (r *pageReconciler) match(t domain.Transaction) {
	r.out.Matched++
	r.found = append(r.found, t.Ref)
}

// adoptPayment records a payment the ledger missed under the key it was charged with, so the
// purchase's own charge under that key, retried, finds this row and never charges again. ok is
// false for a payment whose purchase this database does not hold.
func (r *pageReconciler) adoptPayment(ctx context.Context, lp payments.ListedPayment) (domain.Transaction, bool, error) {
	purchaseRef := lp.PurchaseRef
	if purchaseRef == "" { // keys begin with the purchase: pur_x/period-3/charge
		purchaseRef, _, _ = strings.Cut(lp.Key, "/")
	}
	merchant, customer, product, err := r.a.Store.PurchaseOwner(ctx, purchaseRef)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		r.log.Warn("reconcile: a payment with Tollgate's key whose purchase is not in this database", "processor", r.processor,
			"payment", lp.PaymentRef, "purchase", purchaseRef)
		return domain.Transaction{}, false, nil
	}
	if err != nil {
		return domain.Transaction{}, false, err
	}
	if r.merchant != "" && merchant != r.merchant { // another merchant's purchase named in this merchant's account
		r.log.Warn("reconcile: a payment in a merchant's own account naming another merchant's purchase", "account", r.merchant,
			"payment", lp.PaymentRef, "purchase", purchaseRef)
		return domain.Transaction{}, false, nil
	}
	t := domain.Transaction{MerchantRef: merchant, Kind: domain.TxnPayment, Status: domain.TxnSucceeded, Amount: lp.Amount,
		Currency: strings.ToUpper(lp.Currency), PurchaseRef: purchaseRef, CustomerRef: customer, ProductRef: product,
		Period: lp.Period, Reason: reasonAdopted, IdempotencyKey: lp.Key, Processor: r.processor, ProcessorRef: lp.PaymentRef,
		OccurredAt: lp.Created}
	if lp.Status == payments.PaymentProcessing {
		t.Status = domain.TxnPending
	}
	// The key may name another payment already: a decline recorded under it, then a charge
	// made again under the key once the processor forgot it.
	if prev, err := r.a.Store.TransactionByKey(ctx, merchant, lp.Key); err == nil && prev.ProcessorRef != lp.PaymentRef || lp.Key == "" {
		t.IdempotencyKey = "processor/" + lp.PaymentRef
	}
	return r.adopt(ctx, t, lp.PaymentRef)
}

// refund matches or adopts a succeeded refund of payment pay (the ledger's row of lp).
func (r *pageReconciler) refund(ctx context.Context, pay *domain.Transaction, lp payments.ListedPayment, rf payments.RefundFacts) error {
	if rf.Status != "succeeded" {
		return nil
	}
	r.out.Seen++
	txn, err := r.a.Store.ProcessorTransaction(ctx, r.processor, domain.TxnRefund, rf.ID)
	if err == nil && txn.Status != domain.TxnFailed {
		r.match(txn)
		return nil
	}
	if rf.Key != "" { // Tollgate's own refund, recorded under its key before the processor answered
		if txn, err := r.a.Store.TransactionByKey(ctx, pay.MerchantRef, rf.Key); err == nil && txn.Status != domain.TxnFailed {
			r.match(txn)
			return nil
		}
	}
	key, reason := rf.Key, reasonAdopted
	if key == "" { // made elsewhere: the key the purchase's workflow books such a refund under
		key, reason = workflows.RefundKey(pay.PurchaseRef, "processor/"+rf.ID), reasonRefundedOutside
	}
	amount := min(rf.Amount, pay.Amount-pay.RefundedAmount)
	if amount <= 0 {
		r.log.Warn("reconcile: a refund above what the ledger has left of its payment", "processor", r.processor,
			"refund", rf.ID, "payment", pay.Ref)
		r.out.Skipped++
		return nil
	}
	t := domain.Transaction{MerchantRef: pay.MerchantRef, Kind: domain.TxnRefund, Status: domain.TxnSucceeded, Amount: amount,
		Currency: pay.Currency, PurchaseRef: pay.PurchaseRef, CustomerRef: pay.CustomerRef, ProductRef: pay.ProductRef,
		SourceRef: pay.Ref, Period: pay.Period, Reason: reason, IdempotencyKey: key, Processor: r.processor, ProcessorRef: rf.ID}
	out, ok, err := r.adopt(ctx, t, lp.PaymentRef)
	if domain.ErrorCode(err) == domain.CodeInvalidField { // the refunds of the payment would exceed it
		r.log.Warn("reconcile: refund not adopted", "refund", rf.ID, "payment", pay.Ref, "error", err)
		r.out.Skipped++
		return nil
	}
	if ok && out.Kind == domain.TxnRefund {
		pay.RefundedAmount += out.Amount
	}
	return err
}

// adopt records t; a row already under its key (written meanwhile by the purchase's workflow)
// counts as matched.
func (r *pageReconciler) adopt(ctx context.Context, t domain.Transaction, paymentRef string) (domain.Transaction, bool, error) {
	out, created, err := r.a.Store.AdoptTransaction(ctx, t, fmt.Sprintf("%s %s found at %s, missing from the ledger",
		t.Kind, t.ProcessorRef, r.processor))
	if err != nil {
		return out, false, err
	}
	if !created {
		r.match(out)
		return out, true, nil
	}
	r.log.Info("reconcile: adopted", "kind", out.Kind, "transaction", out.Ref, "processorRef", out.ProcessorRef,
		"purchase", out.PurchaseRef, "amount", out.Amount, "currency", out.Currency)
	r.out.Adopted++
	r.out.AdoptedRefs = append(r.out.AdoptedRefs, out.Ref)
	r.found = append(r.found, out.Ref)
	if touch := (workflows.PaymentTouch{PurchaseRef: out.PurchaseRef, PaymentRef: paymentRef}); !r.touched[touch] {
		r.touched[touch] = true
		r.out.Signals = append(r.out.Signals, touch)
	}
	return out, true, nil
}

// ledgerPage is how many ledger rows ReconcileLedger reads at a time.
const ledgerPage = 200

// ReconcileLedger asks the processor, by id, for each ledger row of it since in.Since that no
// page of this run found (a payment, or the payment a refund is of), and flags the rows it does
// not know. Rows it knows after all (made before in.Since, or during the run) count as found.
func (a *Activities) ReconcileLedger(ctx context.Context, in workflows.ReconcileLedgerInput) (workflows.ReconcileLedgerResult, error) {
	proc, merchant, err := a.reconcilable(ctx, in.Processor)
	if err != nil || proc == nil {
		return workflows.ReconcileLedgerResult{}, err
	}
	log := activityLogger(ctx)
	var out workflows.ReconcileLedgerResult
	facts := map[string]*payments.PaymentFacts{} // nil: the processor does not know the payment
	for after := ""; ; {
		rows, err := a.Store.ReconcileCandidates(ctx, proc.Name(), merchant, in.Since, in.RunAt, after, ledgerPage)
		if err != nil || len(rows) == 0 {
			return out, err
		}
		var found, flagged []string
		for _, c := range rows {
			after = c.Txn.Ref
			out.Checked++
			f, seen := facts[c.PaymentRef]
			if !seen {
				got, err := proc.LookupPayment(ctx, c.PaymentRef)
				if d, ok := payments.IsDecline(err); ok && d.Code == "resource_missing" {
					err = nil
				} else if err == nil {
					f = &got
				}
				if err != nil {
					return out, temporalError(err)
				}
				facts[c.PaymentRef] = f
			}
			if knows(f, c.Txn) {
				found = append(found, c.Txn.Ref)
				continue
			}
			flagged = append(flagged, c.Txn.Ref)
			log.Warn("reconcile: a ledger row the processor does not know", "processor", proc.Name(), "transaction", c.Txn.Ref,
				"kind", c.Txn.Kind, "processorRef", c.Txn.ProcessorRef, "merchant", c.Txn.MerchantRef, "amount", c.Txn.Amount,
				"currency", c.Txn.Currency)
		}
		if err := a.Store.MarkReconciled(ctx, found, in.RunAt); err != nil {
			return out, err
		}
		if err := a.Store.FlagTransactions(ctx, flagged, store.FlagUnknownToProcessor); err != nil {
			return out, err
		}
		out.Found += len(found)
		out.Flagged = append(out.Flagged, flagged...)
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, after)
		}
	}
}

// knows reports whether the processor's facts of a payment hold the ledger row t: the payment
// itself, or a refund of it.
func knows(f *payments.PaymentFacts, t domain.Transaction) bool {
	switch {
	case f == nil:
		return false
	case t.Kind == domain.TxnPayment: // looked up by its own id
		return true
	}
	for _, r := range f.Refunds {
		if r.ID == t.ProcessorRef {
			return true
		}
	}
	return false
}

// activityLogger is the activity's logger, or the process's outside an activity (a direct call
// in a test).
func activityLogger(ctx context.Context) sdklog.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return sdklog.NewStructuredLogger(slog.Default())
}
