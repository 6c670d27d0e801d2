package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// 3-D Secure on the first payment. The checkout sets the card up on session, and the first
// payment, taken off session right after, may still be answered authentication_required (a
// card whose bank asks for every payment: Stripe's 4000 0027 6000 3184). The customer is still
// on the page, so that is not a failed first payment: the purchase stays pending and keeps the
// payment (State.Authenticating); the checkout sends the customer to authenticate that very
// payment (its step, or /pay/<token>), and a payment-changed signal about it refetches it:
//
//	succeeded                  period 1 starts now, paid by that payment: active, one charge
//	failed (the customer or    the purchase ends expired (first_payment_failed: <code>), and
//	the bank refused)          the checkout asks for a card again
//	nothing by Until           the payment is refetched once more; still unpaid, the purchase
//	                           ends expired (first_payment_failed: authentication_required)
//
// FirstAuthenticationWindow is how long a pending purchase waits for its first payment's
// authentication. An hour, not the checkout link's day (Stripe's Checkout keeps a session 24
// hours): the customer is on the page when the bank asks, the bank's own step expires in
// minutes, and a pending purchase is the customer's one live purchase of the product, so a
// day would keep them from buying it again through another link or the API. After the window
// the checkout link still works and asks for a card again.
const FirstAuthenticationWindow = time.Hour

// awaitFirstAuthentication keeps a first payment the bank wants authenticated, and reports
// whether it did; any other decline ends the purchase as before.
func (p *purchase) awaitFirstAuthentication(ctx workflow.Context, amount int64, failure *ChargeFailure) bool {
	if failure.Code != payments.CodeAuthenticationRequired || failure.ProcessorRef == "" {
		return false
	}
	if workflow.GetVersion(ctx, changeFirstAuthentication, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	p.state.Authenticating = &Authentication{TxnRef: failure.TxnRef, ProcessorRef: failure.ProcessorRef, Amount: amount,
		Until: p.stamp(ctx).Add(FirstAuthenticationWindow)}
	return true
}

// awaitsFirstAuthentication reports whether ref is the first payment the pending purchase waits
// for the customer to authenticate.
func (p *purchase) awaitsFirstAuthentication(ref string) bool {
	a := p.state.Authenticating
	return ref != "" && a != nil && a.ProcessorRef == ref && p.state.Status == domain.PurchasePending
}

// firstAuthenticated starts the purchase with the first payment once the customer
// authenticated it, or ends it when the authentication failed; still waiting changes nothing.
func (p *purchase) firstAuthenticated(ctx workflow.Context, ref string, facts payments.PaymentFacts) error {
	s := &p.state
	if !p.awaitsFirstAuthentication(ref) { // answered meanwhile (the window ended)
		return nil
	}
	a := *s.Authenticating
	switch {
	case facts.Status == payments.PaymentFailed && facts.FailureCode != payments.CodeAuthenticationRequired:
		s.Authenticating = nil
		return p.end(ctx, "authentication_failed", domain.PurchaseExpired, "first_payment_failed: "+facts.FailureCode)
	case facts.Status != payments.PaymentSucceeded:
		return nil
	}
	if err := p.payAuthenticated(ctx, a, 1, a.Amount, facts); err != nil {
		return err
	}
	s.Authenticating = nil
	return p.startFirstPeriod(ctx, p.stamp(ctx), "authenticated: "+ref)
}

// authenticationWindowOver ends a purchase whose first payment was not authenticated in time,
// after a last look at the payment: one that succeeded meanwhile starts the purchase.
func (p *purchase) authenticationWindowOver(ctx workflow.Context) error {
	s := &p.state
	a := s.Authenticating
	if a == nil {
		return nil
	}
	facts, err := p.lookUpPayment(ctx, a.ProcessorRef)
	if err != nil {
		p.log.Warn("first payment's authentication window over: the payment could not be refetched", "payment", a.ProcessorRef, "error", err)
	} else if facts.Status == payments.PaymentSucceeded {
		return p.firstAuthenticated(ctx, a.ProcessorRef, facts)
	}
	s.Authenticating = nil
	return p.endAt(ctx, "authentication_expired", domain.PurchaseExpired,
		"first_payment_failed: "+payments.CodeAuthenticationRequired, a.Until)
}

// payAuthenticated records payment a, which the customer authenticated, as the payment of
// amount for period: its txn_ succeeded, counted as paid. The same payment, never a second
// charge. What it paid is the processor's amount (facts), the tax the charge added included,
// as collect counts a payment that succeeded at once.
func (p *purchase) payAuthenticated(ctx workflow.Context, a Authentication, period int, amount int64, facts payments.PaymentFacts) error {
	s := &p.state
	err := workflow.ExecuteLocalActivity(local(ctx), actSettlePayment, SettlePaymentInput{MerchantRef: s.MerchantRef,
		PurchaseRef: s.PurchaseRef, CustomerRef: s.CustomerRef, Terms: s.termsDigest(), TxnRef: a.TxnRef,
		Status: payments.PaymentSucceeded}).Get(ctx, nil)
	if err != nil {
		return err
	}
	pay := Payment{TxnRef: a.TxnRef, ProcessorRef: a.ProcessorRef, Period: period, Amount: amount, Key: facts.Key,
		PaidAt: p.stamp(ctx)}
	if facts.Amount > 0 && facts.Amount != amount {
		pay.Amount, pay.Asked = facts.Amount, amount
	}
	s.Payments = append(s.Payments, pay)
	s.PaidTotal += pay.Amount
	return nil
}
