package web

import (
	"context"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// /pay/<pay_…> completes a renewal the customer's bank wanted authenticated (3-D Secure): that
// very payment, never a second charge. At Stripe, Stripe.js confirms the PaymentIntent in the
// browser (the bank's page opens there) and the page then tells the purchase; in the sandbox a
// page of ours stands in for the bank's (approve / fail), and the sandbox reports the outcome
// through the webhook handler, as Stripe does. The token in the URL is the page's bearer
// secret; the portal links to it while the purchase waits.

// payView is the payment page.
type payView struct {
	Action        string // /pay/<token>
	CSRF          string
	Merchant      string
	Product       string
	Plan          string
	Amount        string
	Sandbox       bool
	Stripe        bool
	ClientSecret  string
	PaymentMethod string
	PublicKey     string
	Notice        string
	Error         string
	// Checkout: the authentication step of a checkout's card, not a renewal's payment
	Checkout bool
	// FirstPayment: a checkout's first payment, which the bank asks to confirm after the card's
	// own step (a card whose bank asks for every payment)
	FirstPayment bool
}

// payment is what a /pay page is about.
type payment struct {
	auth     store.PaymentAuthentication
	merchant store.Merchant
	purchase domain.Purchase
	proc     payments.Processor
	// publishable is the merchant's own Stripe publishable key; "": the deployment's
	publishable string
}

func (h *handler) loadPayment(w http.ResponseWriter, r *http.Request) (payment, bool) {
	token := r.PathValue("token")
	if !domain.HasPrefix(token, "pay") {
		h.notFound(w, r)
		return payment{}, false
	}
	ctx := r.Context()
	a, err := h.st.GetPaymentAuthentication(ctx, token)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		h.notFound(w, r)
		return payment{}, false
	} else if err != nil {
		h.internalError(w, store.Merchant{}, "load payment authentication", err)
		return payment{}, false
	}
	pm := payment{auth: a}
	if pm.merchant, err = h.st.GetMerchant(ctx, a.MerchantRef); err != nil {
		h.internalError(w, store.Merchant{}, "load merchant", err)
		return pm, false
	}
	if pm.purchase, err = h.st.GetPurchase(ctx, a.MerchantRef, a.PurchaseRef); err != nil {
		h.internalError(w, pm.merchant, "load purchase", err)
		return pm, false
	}
	if pm.proc, pm.publishable, err = h.modes.ForMerchant(ctx, a.MerchantRef, a.Processor == "sandbox"); err != nil {
		h.internalError(w, pm.merchant, "payment processor", err)
		return pm, false
	}
	return pm, true
}

// payPage shows the payment waiting for the customer, or what became of it.
func (h *handler) payPage(w http.ResponseWriter, r *http.Request) {
	pm, ok := h.loadPayment(w, r)
	if !ok {
		return
	}
	h.renderPay(w, r, pm, "")
}

func (h *handler) renderPay(w http.ResponseWriter, r *http.Request, pm payment, errMsg string) {
	ctx := r.Context()
	facts, err := h.authentication(ctx, pm)
	if err != nil {
		h.internalError(w, pm.merchant, "read payment", err)
		return
	}
	product := pm.purchase.PlanName
	if p, err := h.st.GetProduct(ctx, pm.merchant.Ref, pm.purchase.ProductRef); err == nil {
		product = p.Name
	}
	switch {
	case facts.Status == payments.PaymentSucceeded || facts.Status == payments.PaymentProcessing:
		body := "Thank you: your payment of " + formatMoney(pm.auth.Amount, pm.auth.Currency) + " went through."
		if pm.purchase.Status == domain.PurchasePending {
			body += " Your " + product + " subscription is starting; this can take a moment."
		} else if overdue(pm.purchase) {
			body += " Your " + product + " access is being restored; this can take a moment."
		} else {
			body += " Your " + product + " subscription is active."
		}
		h.renderMessage(w, http.StatusOK, pm.merchant, message{Heading: "Payment complete", Body: body})
		return
	case facts.Status != payments.AuthenticationPending || pm.auth.Superseded || !overdue(pm.purchase):
		h.renderMessage(w, http.StatusGone, pm.merchant, message{Heading: "This payment is no longer due",
			Body: "Nothing is waiting for you here: the payment was settled another way or replaced by a newer one. Open your billing portal to see where things stand."})
		return
	}
	v := payView{Action: "/pay/" + pm.auth.Token, CSRF: h.csrfToken(w, r, pm.auth.Token), Merchant: merchantName(pm.merchant),
		Product: product, Plan: pm.purchase.PlanName, Amount: formatMoney(pm.auth.Amount, pm.auth.Currency),
		Sandbox: pm.auth.Processor == "sandbox", Error: errMsg, FirstPayment: pm.purchase.Status == domain.PurchasePending}
	h.renderStep(w, ctx, pm.merchant, v, facts.ClientSecret, facts.PaymentMethod)
}

// authentication asks the processor where the payment stands.
func (h *handler) authentication(ctx context.Context, pm payment) (payments.AuthenticationFacts, error) {
	a, ok := pm.proc.(payments.Authenticator)
	if !ok {
		return payments.AuthenticationFacts{Status: payments.PaymentFailed}, nil
	}
	return a.PaymentAuthentication(ctx, pm.auth.PaymentRef)
}

// overdue reports whether the purchase still waits for a payment: a renewal's, or its first
// (pending while the customer authenticates it).
func overdue(p domain.Purchase) bool {
	return p.Status == domain.PurchasePastDue || p.Status == domain.PurchaseSuspended || p.Status == domain.PurchasePending
}

// payAnswer takes the customer's answer: in the sandbox, approve or fail on the page that stands
// in for the bank's; at Stripe, "complete" once Stripe.js confirmed the payment. The outcome
// reaches the purchase through its workflow (a payment-changed signal, which refetches the
// payment), and the page waits a moment for the purchase to be restored.
func (h *handler) payAnswer(w http.ResponseWriter, r *http.Request) {
	pm, ok := h.loadPayment(w, r)
	if !ok {
		return
	}
	if !h.checkCSRF(r, pm.auth.Token) {
		h.forbidCSRF(w, pm.merchant, "/pay/"+pm.auth.Token)
		return
	}
	ctx := r.Context()
	if err := h.answerAuthentication(ctx, r, pm); err != nil {
		h.internalError(w, pm.merchant, "payment authentication", err)
		return
	}
	switch {
	case r.PostFormValue("action") != "fail":
	case pm.purchase.Status == domain.PurchasePending: // a first payment: the purchase ends unpaid
		h.renderMessage(w, http.StatusPaymentRequired, pm.merchant, message{Heading: "Nothing was paid",
			Body: "The authentication failed, so nothing was paid and your subscription did not start. Open your checkout link again to pay with another card."})
		return
	default:
		h.renderPay(w, r, pm, "The authentication failed, so nothing was paid. Try again, or update your card in the billing portal.")
		return
	}
	pm.purchase = h.waitRestored(ctx, pm)
	h.renderPay(w, r, pm, "")
}

// answerAuthentication passes the customer's answer to a payment's authentication on: in the
// sandbox, approve or fail on the page that stands in for the bank's, reported through the
// webhook handler as Stripe reports its own; at Stripe, Stripe.js confirmed it in the browser,
// and the purchase is told to refetch it (the processor's webhook tells it too).
func (h *handler) answerAuthentication(ctx context.Context, r *http.Request, pm payment) error {
	action := r.PostFormValue("action")
	if sb, ok := pm.proc.(*sandbox.Processor); ok && (action == "approve" || action == "fail") {
		ev, err := sb.Authenticate(ctx, pm.auth.PaymentRef, action == "approve")
		if err != nil {
			return err
		}
		return h.report(ctx, pm, ev)
	}
	if n, ok := h.cfg.Lifecycle.(paymentNotifier); ok {
		if err := n.PaymentChanged(ctx, pm.auth.MerchantRef, pm.auth.PurchaseRef, pm.auth.PaymentRef); err != nil {
			h.log.WarnContext(ctx, "pay: the purchase was not told; the processor's webhook will tell it", "purchase", pm.auth.PurchaseRef, "err", err)
		}
	}
	return nil
}

// report sends the sandbox's outcome through the webhook handler, as Stripe sends its own; a
// deployment without the sandbox's webhooks tells the purchase directly.
func (h *handler) report(ctx context.Context, pm payment, ev sandbox.Event) error {
	if h.cfg.SandboxWebhooks != nil {
		return h.cfg.SandboxWebhooks.Send(ctx, ev)
	}
	if n, ok := h.cfg.Lifecycle.(paymentNotifier); ok {
		return n.PaymentChanged(ctx, pm.auth.MerchantRef, pm.auth.PurchaseRef, pm.auth.PaymentRef)
	}
	return nil
}

// waitRestored waits (ActivationWait at most) for the purchase to leave past due once its
// payment succeeded, and answers the purchase as it is then.
func (h *handler) waitRestored(ctx context.Context, pm payment) domain.Purchase {
	p := pm.purchase
	if facts, err := h.authentication(ctx, pm); err != nil || facts.Status != payments.PaymentSucceeded {
		return p
	}
	deadline := time.Now().Add(h.cfg.ActivationWait)
	for delay := 50 * time.Millisecond; overdue(p) && time.Now().Before(deadline); delay = min(delay*2, 500*time.Millisecond) {
		select {
		case <-ctx.Done():
			return p
		case <-time.After(delay):
		}
		if now, err := h.st.GetPurchase(ctx, p.MerchantRef, p.Ref); err == nil {
			p = now
		}
	}
	return p
}

// paymentNotifier tells a purchase that one of its payments changed (starter's payment-changed
// signal); the starter's Lifecycle has it.
type paymentNotifier interface {
	PaymentChanged(ctx context.Context, merchantRef, purchaseRef, paymentRef string) error
}
