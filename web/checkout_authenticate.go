package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// 3-D Secure at checkout. The customer is on the page, so the card is confirmed on session
// before the purchase starts: set up for the off-session charges that follow (a SetupIntent with
// usage=off_session at Stripe). When the bank asks to authenticate, the page shows that step —
// Stripe.js opens the bank's page; the sandbox shows its own in place of the bank's (approve /
// fail) — and only once it succeeded does the purchase start and take its first payment, right
// away, while the customer is still on the page. No money moves before the purchase starts, so
// a checkout that loses a race to another activation has charged nothing. A refused
// authentication counts as a refused card, and the page asks for a card again.

// confirmCard sets the customer's card (just saved) up on session for purchase ref, where the
// session's processor can; a processor that cannot answers succeeded and the purchase charges
// off session as before.
func (h *handler) confirmCard(ctx context.Context, cs store.CheckoutSession, d checkoutData, ref string) (payments.OnSessionResult, error) {
	pay, _, err := h.modes.ForMerchant(ctx, cs.MerchantRef, cs.Sandbox())
	if err != nil {
		return payments.OnSessionResult{}, err
	}
	sc, ok := pay.(payments.SessionConfirmer)
	if !ok {
		return payments.OnSessionResult{Status: payments.PaymentSucceeded}, nil
	}
	cus, err := h.st.GetCustomer(ctx, cs.MerchantRef, cs.CustomerRef)
	if err != nil {
		return payments.OnSessionResult{}, err
	}
	pcus, err := h.st.ProcessorCustomerID(ctx, cs.MerchantRef, cs.CustomerRef)
	if err != nil {
		return payments.OnSessionResult{}, err
	}
	if cus.Card == nil || pcus == "" {
		return payments.OnSessionResult{}, fmt.Errorf("customer %s has no card saved to confirm", cs.CustomerRef)
	}
	res, err := sc.ConfirmOnSession(ctx, payments.OnSessionInput{IdempotencyKey: ref + "/period-1/charge",
		ProcessorCustomerID: pcus, PaymentMethod: cus.Card.PaymentMethod,
		Metadata: map[string]string{"purchaseRef": ref, "checkoutSession": cs.Ref}})
	if d, ok := payments.IsDecline(err); ok { // refused as a request: a card that cannot be confirmed
		return payments.OnSessionResult{Status: payments.PaymentFailed, FailureCode: d.Code, Message: d.Message}, nil
	} else if err != nil {
		return res, err
	}
	return res, h.st.SetCheckoutOnSession(ctx, cs.Ref, ref, res.Ref)
}

// renderCardAuthentication shows the bank's authentication step of a confirmation that asks.
func (h *handler) renderCardAuthentication(w http.ResponseWriter, r *http.Request, cs store.CheckoutSession, m store.Merchant,
	d checkoutData, conf payments.OnSessionResult, errMsg string) {
	v := h.checkoutStep(w, r, cs, m, d, errMsg)
	v.Checkout = true
	h.renderStep(w, r.Context(), m, v, conf.ClientSecret, "")
}

// checkoutStep is the view of an authentication step of checkout cs.
func (h *handler) checkoutStep(w http.ResponseWriter, r *http.Request, cs store.CheckoutSession, m store.Merchant,
	d checkoutData, errMsg string) payView {
	plan := d.plan.Name
	if d.plan.PerSeat && cs.Quantity > 1 {
		plan = fmt.Sprintf("%s × %d seats", plan, cs.Quantity)
	}
	return payView{Action: "/checkout/" + cs.Ref + "/authenticate", CSRF: h.csrfToken(w, r, cs.Ref), Merchant: merchantName(m),
		Product: d.product.Name, Plan: plan, Sandbox: cs.Sandbox(), Error: errMsg}
}

// renderStep shows an authentication step (the "pay" page): in the sandbox, the page that
// stands in for the bank's; at Stripe, Stripe.js with the intent's client secret and the
// merchant's publishable key. pm is the card a PaymentIntent is confirmed with again ("" for
// an intent that only waits for the bank's step).
func (h *handler) renderStep(w http.ResponseWriter, ctx context.Context, m store.Merchant, v payView, secret, pm string) {
	title := "Confirm your payment"
	if v.Checkout {
		title = "Confirm your card"
	}
	l := layout{Title: title + " · " + merchantName(m), Merchant: m, Sandbox: v.Sandbox}
	if !v.Sandbox {
		v.Stripe, v.ClientSecret, v.PaymentMethod, v.PublicKey = true, secret, pm, h.stripeKey(ctx, m.Ref, false)
		l.StripeJS, l.Scripts = true, []string{"pay.js"}
	}
	h.render(w, http.StatusOK, "pay", l, v)
}

// showPaymentAuthentication shows the step that completes the first payment of purchase ref,
// which the bank wants authenticated (3-D Secure) although the card was set up on session: the
// same payment, never a second charge (workflows/first_authentication.go).
func (h *handler) showPaymentAuthentication(ctx context.Context, w http.ResponseWriter, r *http.Request, cs store.CheckoutSession,
	m store.Merchant, d checkoutData, ref, errMsg string) {
	pm, err := h.checkoutPayment(ctx, cs, m, ref)
	if err != nil {
		h.internalError(w, m, "first payment authentication", err)
		return
	}
	facts, err := h.authentication(ctx, pm)
	if err != nil {
		h.internalError(w, m, "read payment", err)
		return
	}
	v := h.checkoutStep(w, r, cs, m, d, errMsg)
	v.FirstPayment, v.Amount = true, formatMoney(pm.auth.Amount, pm.auth.Currency)
	h.renderStep(w, ctx, m, v, facts.ClientSecret, facts.PaymentMethod)
}

// checkoutPayment is the first payment of checkout cs's purchase ref that waits for the
// customer's authentication.
func (h *handler) checkoutPayment(ctx context.Context, cs store.CheckoutSession, m store.Merchant, ref string) (payment, error) {
	pm := payment{merchant: m}
	var err error
	if pm.auth, err = h.st.OpenPaymentAuthentication(ctx, cs.MerchantRef, ref); err != nil {
		return pm, err
	}
	if pm.purchase, err = h.st.GetPurchase(ctx, cs.MerchantRef, ref); err != nil {
		return pm, err
	}
	pm.proc, pm.publishable, err = h.modes.ForMerchant(ctx, cs.MerchantRef, cs.Sandbox())
	return pm, err
}

// answerFirstPayment takes the customer's answer to the first payment's step, and shows where
// the purchase got to: started (the checkout completes), ended (the checkout asks for a card
// again), or still waiting (the step again).
func (h *handler) answerFirstPayment(ctx context.Context, w http.ResponseWriter, r *http.Request, cs store.CheckoutSession,
	m store.Merchant, ref string) {
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil {
		h.unavailable(w, cs, m, err)
		return
	}
	pm, err := h.checkoutPayment(ctx, cs, m, ref)
	if err == nil {
		err = h.answerAuthentication(ctx, r, pm)
	}
	if err != nil {
		h.internalError(w, m, "first payment authentication", err)
		return
	}
	// the customer answered: wait for the purchase to take the answer
	switch out := h.awaitOutcomePast(ctx, cs, ref, outcomePending, outcomeAuthenticate); out.kind {
	case outcomeSucceeded:
		h.completeCheckout(w, r, cs, ref)
	case outcomeFailed:
		h.firstPaymentFailed(ctx, r, cs, ref, out)
		v := h.checkoutView(w, r, cs, m, d)
		v.Error = out.message
		h.renderCheckout(w, http.StatusPaymentRequired, m, v)
	case outcomeAuthenticate:
		h.showPaymentAuthentication(ctx, w, r, cs, m, d, ref, "Your bank has not confirmed the payment yet. Confirm to go on.")
	default:
		h.renderProcessing(w, cs, m)
	}
}

// confirmationFailed answers a confirmation the bank or the customer refused: the purchase is
// released and the refused card counted, the customer's working card put back, and the
// checkout asks for a card again.
func (h *handler) confirmationFailed(ctx context.Context, w http.ResponseWriter, r *http.Request, cs store.CheckoutSession,
	m store.Merchant, v checkoutView, ref string, conf payments.OnSessionResult, working *domain.Card) {
	h.firstPaymentFailed(ctx, r, cs, ref, outcome{kind: outcomeFailed, code: conf.FailureCode})
	h.restoreCard(ctx, cs, working)
	v.Error = declineWords(conf.FailureCode, conf.Message)
	h.renderCheckout(w, http.StatusPaymentRequired, m, v)
}

// pendingConfirmation is the session's confirmation waiting for (or back from) the bank's
// authentication, with the purchase it is for, when that purchase has not started yet.
func (h *handler) pendingConfirmation(ctx context.Context, cs store.CheckoutSession) (ref, conf string, ok bool) {
	ref, conf, err := h.st.CheckoutOnSession(ctx, cs.Ref)
	if err != nil || ref == "" || conf == "" {
		return "", "", false
	}
	if _, err := h.st.GetPurchase(ctx, cs.MerchantRef, ref); domain.ErrorCode(err) != domain.CodeNotFound {
		return "", "", false // started (or unknown): the purchase's own outcome tells
	}
	return ref, conf, true
}

// checkoutAuthenticate takes the bank's step's answer: in the sandbox approve or fail on the
// page that stands in for the bank's; at Stripe "complete" once Stripe.js finished. The
// confirmation is refetched from the processor, never taken from the browser: succeeded, the
// purchase starts; refused, the checkout asks for a card again; still asking, the step again.
func (h *handler) checkoutAuthenticate(w http.ResponseWriter, r *http.Request) {
	cs, m, ok := h.loadCheckoutForm(w, r)
	if !ok {
		return
	}
	if cs.Status == "complete" {
		http.Redirect(w, r, "/checkout/"+cs.Ref+"/success", http.StatusSeeOther)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.ActivationWait+30*time.Second)
	defer cancel()
	ref, confRef, ok := h.pendingConfirmation(ctx, cs)
	if !ok {
		if ref, err := h.st.CheckoutAttempt(ctx, cs.Ref); err == nil && ref != "" && h.outcome(ctx, cs, ref).kind == outcomeAuthenticate {
			h.answerFirstPayment(ctx, w, r, cs, m, ref)
			return
		}
		// nothing waits for authentication: the checkout shows where things are
		http.Redirect(w, r, "/checkout/"+cs.Ref, http.StatusSeeOther)
		return
	}
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil {
		h.unavailable(w, cs, m, err)
		return
	}
	pay, _, err := h.modes.ForMerchant(ctx, cs.MerchantRef, cs.Sandbox())
	if err != nil {
		h.internalError(w, m, "payment processor", err)
		return
	}
	var conf payments.OnSessionResult
	action := r.PostFormValue("action")
	if sb, isSandbox := pay.(*sandbox.Processor); isSandbox && (action == "approve" || action == "fail") {
		conf, err = sb.AuthenticateOnSession(ctx, confRef, action == "approve")
	} else if sc, can := pay.(payments.SessionConfirmer); can {
		conf, err = sc.OnSessionOutcome(ctx, confRef)
	} else {
		err = fmt.Errorf("the %s processor confirms nothing on session", pay.Name())
	}
	if err != nil {
		h.internalError(w, m, "card authentication", err)
		return
	}
	v := h.checkoutView(w, r, cs, m, d)
	switch conf.Status {
	case payments.AuthenticationPending:
		h.renderCardAuthentication(w, r, cs, m, d, conf, "Your bank has not confirmed yet. Confirm to go on.")
	case payments.PaymentFailed:
		h.confirmationFailed(ctx, w, r, cs, m, v, ref, conf, nil)
	default:
		h.startPurchase(ctx, w, r, cs, m, d, v, ref, nil)
	}
}

// showPendingConfirmation answers GET /checkout/<cs_…> while a confirmation made by an earlier
// Pay waits for the bank's step (the customer reloaded or came back): the step again, or the
// checkout with why the card was refused. It reports whether it answered.
func (h *handler) showPendingConfirmation(ctx context.Context, w http.ResponseWriter, r *http.Request, cs store.CheckoutSession,
	m store.Merchant) bool {
	ref, confRef, ok := h.pendingConfirmation(ctx, cs)
	if !ok {
		return false
	}
	pay, _, err := h.modes.ForMerchant(ctx, cs.MerchantRef, cs.Sandbox())
	sc, can := pay.(payments.SessionConfirmer)
	if err != nil || !can {
		return false
	}
	conf, err := sc.OnSessionOutcome(ctx, confRef)
	if err != nil {
		h.internalError(w, m, "card authentication", err)
		return true
	}
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil {
		h.unavailable(w, cs, m, err)
		return true
	}
	if conf.Status == payments.PaymentFailed {
		h.confirmationFailed(ctx, w, r, cs, m, h.checkoutView(w, r, cs, m, d), ref, conf, nil)
		return true
	}
	// waiting, or completed in a browser that then closed: the step's form starts the purchase
	h.renderCardAuthentication(w, r, cs, m, d, conf, "")
	return true
}
