package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// A purchase learns what the processor did to its payments from payment-changed signals
// (events.go). Each one refetches the payment and moves the purchase to what the processor
// knows now, using only facts that never go back — a processing payment settles once, a
// succeeded refund stays, a closed dispute stays closed — so signals late, twice or in any
// order end in the same state:
//
//	processing → succeeded   the payment counts as paid (PaidTotal, its txn_ succeeded)
//	processing → failed      its txn_ failed; the period is unpaid: past_due (a renewal) or
//	                         expired (the first payment)
//	a refund made elsewhere  a txn_ refund, as if refunded through Tollgate (a full refund of
//	                         the current period: refunded); Tollgate's own refunds are known
//	                         by their re_… id or key and never booked twice
//	dispute opened           disputed; access withheld (shown suspended) unless the merchant
//	                         keeps it
//	dispute won / lost       the hold lifts; a loss is booked as a txn_ refund of the payment

// lookupOptions bound the refetch: while the processor is down, the signal waits in its own
// coroutine (the mutex stays free) and gives up after an hour; reconciliation finds the rest.
var lookupOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy:            paymentRetry,
}

// Dispute statuses as the state keeps them.
const (
	disputeOpen = "open"
	disputeWon  = "won"
	disputeLost = "lost"
)

// listenPaymentChanges starts the coroutine that applies payment-changed signals one at a time.
// It is a coroutine of its own rather than a branch of the run loop's selector, so a signal
// never restarts the run loop's timer in a history recorded before processor events.
func (p *purchase) listenPaymentChanges(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var in PaymentChangedInput
			p.events.Receive(ctx, &in)
			p.eventsBusy = true
			p.onPaymentChanged(ctx, in)
			p.eventsBusy = false
		}
	})
}

// eventsIdle reports that no payment-changed signal is waiting or being applied.
func (p *purchase) eventsIdle() bool { return !p.eventsBusy && p.events.Len() == 0 }

func (p *purchase) onPaymentChanged(ctx workflow.Context, in PaymentChangedInput) {
	if workflow.GetVersion(ctx, changeProcessorEvents, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		p.log.Info("payment-changed signal ignored: history recorded before processor events", "event", in.EventID)
		return
	}
	var apply func(ctx workflow.Context, facts payments.PaymentFacts) error
	if pay, ok := p.paymentByProcessorRef(in.PaymentRef); ok {
		apply = func(ctx workflow.Context, facts payments.PaymentFacts) error {
			return p.paymentChanged(ctx, pay.TxnRef, facts)
		}
	} else if p.awaitsFirstAuthentication(in.PaymentRef) { // a state only histories after it reach
		apply = func(ctx workflow.Context, facts payments.PaymentFacts) error {
			return p.firstAuthenticated(ctx, in.PaymentRef, facts)
		}
	} else if p.awaitsAuthentication(in.PaymentRef) &&
		workflow.GetVersion(ctx, changeAuthentication, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		apply = func(ctx workflow.Context, facts payments.PaymentFacts) error {
			return p.authenticated(ctx, in.PaymentRef, facts)
		}
	} else {
		p.log.Info("payment-changed signal ignored: not a payment this purchase keeps", "event", in.EventID,
			"payment", in.PaymentRef)
		return
	}
	facts, err := p.lookUpPayment(ctx, in.PaymentRef)
	if err != nil {
		p.log.Warn("payment-changed signal: the payment could not be refetched", "event", in.EventID, "error", err)
		return
	}
	if err := p.locked(ctx, func(ctx workflow.Context) error { return apply(ctx, facts) }); err != nil {
		p.log.Error("payment-changed signal", "event", in.EventID, "error", err)
	}
	p.nudge() // the status may have changed: the run loop recomputes its timer
}

// lookUpPayment refetches payment ref from the processor.
func (p *purchase) lookUpPayment(ctx workflow.Context, ref string) (payments.PaymentFacts, error) {
	s := p.state
	var facts payments.PaymentFacts
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, lookupOptions), actLookupPayment,
		LookupPaymentInput{MerchantRef: s.MerchantRef, PurchaseRef: s.PurchaseRef, CustomerRef: s.CustomerRef,
			Terms: s.termsDigest(), PaymentRef: ref}).Get(ctx, &facts)
	return facts, err
}

// awaitsAuthentication reports whether ref is the payment the purchase waits for its customer
// to authenticate.
func (p *purchase) awaitsAuthentication(ref string) bool {
	d := p.state.Dunning
	return ref != "" && d != nil && d.Authentication != nil && d.Authentication.ProcessorRef == ref
}

// authenticated pays the unpaid period with the payment the customer authenticated, once it
// succeeded: the same payment, never a second charge. A payment the customer failed to
// authenticate leaves the purchase past due (its dunning runs on); one still waiting changes
// nothing.
func (p *purchase) authenticated(ctx workflow.Context, ref string, facts payments.PaymentFacts) error {
	s := &p.state
	if !p.awaitsAuthentication(ref) { // paid otherwise while the payment was refetched
		return nil
	}
	d := s.Dunning
	switch {
	case facts.Status == payments.PaymentFailed && facts.FailureCode != payments.CodeAuthenticationRequired:
		return p.write(ctx, "authentication_failed", s.DisplayStatus(), ref+": "+facts.FailureCode)
	case facts.Status != payments.PaymentSucceeded:
		return nil
	}
	if err := p.payAuthenticated(ctx, *d.Authentication, d.Period, d.Amount, facts); err != nil {
		return err
	}
	s.Dunning = nil
	return p.transition(ctx, "recover", domain.PurchaseActive, "authenticated: "+ref)
}

// paymentChanged moves the purchase to what the processor knows of payment txnRef.
func (p *purchase) paymentChanged(ctx workflow.Context, txnRef string, facts payments.PaymentFacts) error {
	if settled, err := p.settleProcessing(ctx, txnRef, facts); err != nil || settled == payments.PaymentFailed {
		return err
	}
	if err := p.bookOutsideRefunds(ctx, txnRef, facts.Refunds); err != nil {
		return err
	}
	return p.trackDisputes(ctx, txnRef, facts.Disputes)
}

// settleProcessing settles a processing payment the processor now reports succeeded or failed.
func (p *purchase) settleProcessing(ctx workflow.Context, txnRef string, facts payments.PaymentFacts) (string, error) {
	s := &p.state
	i := p.paymentIndex(txnRef)
	if i < 0 || !s.Payments[i].Processing || (facts.Status != payments.PaymentSucceeded && facts.Status != payments.PaymentFailed) {
		return "", nil
	}
	pay := s.Payments[i]
	err := workflow.ExecuteLocalActivity(local(ctx), actSettlePayment, SettlePaymentInput{MerchantRef: s.MerchantRef,
		PurchaseRef: s.PurchaseRef, CustomerRef: s.CustomerRef, Terms: s.termsDigest(), TxnRef: pay.TxnRef,
		Status: facts.Status, FailureCode: facts.FailureCode}).Get(ctx, nil)
	if err != nil {
		return "", err
	}
	if facts.Status == payments.PaymentSucceeded {
		s.Payments[i].Processing = false
		s.PaidTotal += pay.Amount
		return facts.Status, p.write(ctx, "payment_settled", s.DisplayStatus(), pay.TxnRef+" succeeded")
	}
	s.Payments = slices.Delete(s.Payments, i, i+1)
	detail := fmt.Sprintf("%s failed: %s", pay.TxnRef, facts.FailureCode)
	switch {
	case pay.Period != s.Period || !s.Status.HasAccess():
		return facts.Status, p.write(ctx, "payment_failed", s.DisplayStatus(), detail)
	case pay.Period <= 1 && len(s.Payments) == 0: // the first payment: nothing was ever paid
		return facts.Status, p.end(ctx, "payment_failed", domain.PurchaseExpired, "first_payment_failed: "+facts.FailureCode)
	}
	return facts.Status, p.enterPastDue(ctx, pay.asked(), p.stamp(ctx), &ChargeFailure{TxnRef: pay.TxnRef, Code: facts.FailureCode})
}

// bookOutsideRefunds books the succeeded refunds of payment txnRef that Tollgate did not make.
func (p *purchase) bookOutsideRefunds(ctx workflow.Context, txnRef string, refunds []payments.RefundFacts) error {
	for _, r := range refunds {
		if r.Status != "succeeded" || r.Key != "" || p.knownRefund(r.ID) { // r.Key: made by Tollgate
			continue
		}
		if err := p.bookLoss(ctx, txnRef, r.ID, r.Amount, "refund_outside", "refunded_outside_tollgate"); err != nil {
			return err
		}
	}
	return nil
}

// bookLoss records money of payment txnRef returned outside Tollgate (a refund made elsewhere,
// a lost dispute) as a txn_ refund, and books it as a refund.
func (p *purchase) bookLoss(ctx workflow.Context, txnRef, processorRef string, amount int64, action, reason string) error {
	s := &p.state
	i := p.paymentIndex(txnRef)
	if i < 0 {
		return nil
	}
	pay := s.Payments[i]
	amount = min(amount, pay.Amount-pay.Refunded)
	if amount <= 0 {
		return p.write(ctx, action, s.DisplayStatus(), processorRef+": nothing left to refund of "+pay.TxnRef)
	}
	key := "processor/" + processorRef
	var out RecordRefundResult
	err := workflow.ExecuteLocalActivity(local(ctx), actRecordRefund, RecordRefundInput{MerchantRef: s.MerchantRef,
		PurchaseRef: s.PurchaseRef, CustomerRef: s.CustomerRef, ProductRef: s.Plan.ProductRef, Terms: s.termsDigest(),
		SourceTxnRef: pay.TxnRef, Period: pay.Period, Amount: amount, Currency: s.Plan.Currency, Reason: reason,
		Key: RefundKey(s.PurchaseRef, key), ProcessorRef: processorRef}).Get(ctx, &out)
	if err != nil {
		return err
	}
	return p.applyRefund(ctx, i, Refund{Key: key, TxnRef: out.TxnRef, SourceRef: pay.TxnRef, Amount: amount,
		ProcessorRef: processorRef}, false, action, fmt.Sprintf("%s: %d of %s", reason, amount, pay.TxnRef))
}

// trackDisputes follows the disputes over payment txnRef; a closed dispute stays closed.
func (p *purchase) trackDisputes(ctx workflow.Context, txnRef string, disputes []payments.DisputeFacts) error {
	s := &p.state
	for _, d := range disputes {
		status := disputeOpen
		switch {
		case d.Status == "lost":
			status = disputeLost
		case d.Closed():
			status = disputeWon
		}
		k := slices.IndexFunc(s.Disputes, func(x Dispute) bool { return x.ID == d.ID })
		if k >= 0 && (s.Disputes[k].Status == status || s.Disputes[k].Status != disputeOpen) {
			continue
		}
		if k < 0 {
			s.Disputes = append(s.Disputes, Dispute{ID: d.ID, SourceRef: txnRef, Amount: d.Amount, Status: status})
		} else {
			s.Disputes[k].Status = status
		}
		from := s.DisplayStatus()
		detail := fmt.Sprintf("%s over %s: %s", d.ID, txnRef, d.Status)
		if status == disputeOpen {
			policy, err := dunningPolicy(ctx, s.MerchantRef)
			if err != nil {
				return err
			}
			s.DisputeHold = s.DisputeHold || policy.DisputeAccess != "keep"
			if err := p.write(ctx, "dispute_opened", from, detail); err != nil {
				return err
			}
			continue
		}
		s.DisputeHold = s.DisputeHold && s.openDispute() != nil
		var err error
		if status == disputeWon {
			err = p.write(ctx, "dispute_won", from, detail)
		} else {
			err = p.bookLoss(ctx, txnRef, d.ID, d.Amount, "dispute_lost", "dispute_lost")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *purchase) paymentIndex(txnRef string) int {
	return slices.IndexFunc(p.state.Payments, func(x Payment) bool { return x.TxnRef == txnRef })
}

func (p *purchase) paymentByProcessorRef(ref string) (Payment, bool) {
	i := slices.IndexFunc(p.state.Payments, func(x Payment) bool { return ref != "" && x.ProcessorRef == ref })
	if i < 0 {
		return Payment{}, false
	}
	return p.state.Payments[i], true
}

// knownRefund reports whether a refund the processor reports is already booked.
func (p *purchase) knownRefund(processorRef string) bool {
	return slices.ContainsFunc(p.state.Refunds, func(r Refund) bool { return r.ProcessorRef == processorRef })
}

// openDispute is a dispute over one of the purchase's payments still open, or nil.
func (s State) openDispute() *Dispute {
	for i := range s.Disputes {
		if s.Disputes[i].Status == disputeOpen {
			return &s.Disputes[i]
		}
	}
	return nil
}

// processing reports whether a payment of the purchase is accepted but not settled.
func (s State) processing() bool {
	return slices.ContainsFunc(s.Payments, func(x Payment) bool { return x.Processing })
}
