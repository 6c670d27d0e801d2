package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
)

// checkoutView is the checkout page.
type checkoutView struct {
	Action        string
	CSRF          string
	CustomerEmail string
	ProductName   string
	ProductDesc   string
	PlanName      string
	Price         string // "$49.00"
	Cadence       string // "per month"; empty for one-time and free
	CycleName     string
	Features      []string
	UsageLine     string
	TrialNote     string
	SetupFee      string
	DueToday      string
	PayLabel      string
	ReturnURL     string
	MerchantName  string
	cardEntry
}

// checkoutData is everything a checkout page reads besides the session.
type checkoutData struct {
	customer domain.Customer
	product  domain.Product
	plan     domain.Plan
}

func (h *handler) loadCheckoutData(ctx context.Context, cs store.CheckoutSession) (checkoutData, error) {
	var d checkoutData
	var err error
	if d.customer, err = h.st.GetCustomer(ctx, cs.MerchantRef, cs.CustomerRef); err != nil {
		return d, err
	}
	if d.product, err = h.st.GetProduct(ctx, cs.MerchantRef, cs.ProductRef); err != nil {
		return d, err
	}
	if d.plan, err = h.st.GetPlan(ctx, cs.MerchantRef, cs.PlanRef); err != nil {
		return d, err
	}
	if d.plan.Status != domain.StatusActive || d.product.Status != domain.StatusActive {
		return d, domain.NotFound("plan", cs.PlanRef) // retired since the link was made
	}
	return d, nil
}

// checkoutPage shows the plan and the card form, or where an earlier Pay got to.
func (h *handler) checkoutPage(w http.ResponseWriter, r *http.Request) {
	cs, m, ok := h.loadCheckout(w, r)
	if !ok {
		return
	}
	if cs.Status == "complete" {
		http.Redirect(w, r, "/checkout/"+cs.Ref+"/success", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	errMsg := ""
	if h.showPendingConfirmation(ctx, w, r, cs, m) { // the bank's step of an earlier Pay
		return
	}
	// A Pay that started a purchase and lost its browser (reload, closed tab) ends here.
	if ref, err := h.st.CheckoutAttempt(ctx, cs.Ref); err == nil && ref != "" {
		switch out := h.outcome(ctx, cs, ref); out.kind {
		case outcomeSucceeded:
			h.completeCheckout(w, r, cs, ref)
			return
		case outcomePending:
			h.renderProcessing(w, cs, m)
			return
		case outcomeAuthenticate:
			if d, err := h.loadCheckoutData(ctx, cs); err == nil {
				h.showPaymentAuthentication(ctx, w, r, cs, m, d, ref, "")
				return
			}
		case outcomeFailed:
			if h.firstPaymentFailed(ctx, r, cs, ref, out) {
				cs.FailedCardAttempts++
			}
			errMsg = out.message
		}
	}
	if h.spent(cs.FailedCardAttempts) {
		h.checkoutSpent(w, cs, m)
		return
	}
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil {
		h.unavailable(w, cs, m, err)
		return
	}
	if h.alreadyOwned(ctx, w, cs, m, d, "") {
		return
	}
	v := h.checkoutView(w, r, cs, m, d)
	v.Error = errMsg
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusPaymentRequired
	}
	h.renderCheckout(w, status, m, v)
}

func (h *handler) renderCheckout(w http.ResponseWriter, status int, m store.Merchant, v checkoutView) {
	l := layout{Title: "Checkout · " + merchantName(m), Merchant: m, Sandbox: v.Sandbox, Wide: true,
		Scripts: []string{"/assets/checkout.js"}, StripeJS: v.Stripe}
	h.render(w, status, "checkout", l, v)
}

func (h *handler) renderProcessing(w http.ResponseWriter, cs store.CheckoutSession, m store.Merchant) {
	h.render(w, http.StatusAccepted, "processing", layout{Title: "Confirming your payment", Merchant: m,
		Sandbox: cs.Sandbox(), Refresh: 2}, struct{ Action string }{"/checkout/" + cs.Ref})
}

// unavailable answers a session whose plan, product or customer is gone.
func (h *handler) unavailable(w http.ResponseWriter, cs store.CheckoutSession, m store.Merchant, err error) {
	if domain.ErrorCode(err) != domain.CodeNotFound {
		h.internalError(w, m, "load checkout", err)
		return
	}
	h.renderMessage(w, http.StatusGone, m, message{
		Heading:   "This plan is no longer available",
		Body:      merchantName(m) + " no longer offers what this link was for. Nothing was charged.",
		ReturnURL: safeURL(cs.ReturnURL),
	})
}

// alreadyOwned answers a checkout for a plan the customer already has running, instead of
// charging them a second time. own is the purchase this checkout itself started, if any.
func (h *handler) alreadyOwned(ctx context.Context, w http.ResponseWriter, cs store.CheckoutSession, m store.Merchant,
	d checkoutData, own string) bool {
	p, err := h.st.LivePurchase(ctx, cs.MerchantRef, cs.CustomerRef, cs.ProductRef)
	if err != nil || p.Ref == own || p.PlanRef != cs.PlanRef || !p.Status.HasAccess() {
		return false
	}
	h.renderMessage(w, http.StatusOK, m, message{
		Heading:   "You already have " + d.plan.Name,
		Body:      fmt.Sprintf("Your %s plan for %s is already active, so there is nothing to pay.", d.plan.Name, d.product.Name),
		ReturnURL: safeURL(cs.ReturnURL),
	})
	return true
}

func (h *handler) checkoutView(w http.ResponseWriter, r *http.Request, cs store.CheckoutSession, m store.Merchant, d checkoutData) checkoutView {
	p := d.plan
	if p.PerSeat && cs.Quantity > 1 { // the page shows and charges what the seats cost
		p.Price, _ = p.SeatPrice(cs.Quantity) // checked when the session was made
		p.Name = fmt.Sprintf("%s × %d seats", p.Name, cs.Quantity)
	}
	due := dueToday(p)
	v := checkoutView{
		Action: "/checkout/" + cs.Ref, CSRF: h.csrfToken(w, r, cs.Ref),
		CustomerEmail: d.customer.Email, ProductName: d.product.Name, ProductDesc: d.product.Description,
		PlanName: p.Name, CycleName: cycleName(p), Features: p.Features, UsageLine: usageLine(p),
		DueToday: formatMoney(due, p.Currency), ReturnURL: safeURL(cs.ReturnURL), MerchantName: merchantName(m),
		cardEntry: h.cardEntry(r.Context(), cs.MerchantRef, cs.Sandbox(), p.Currency),
	}
	v.Price, v.Cadence = pricing(p)
	if p.SetupFee > 0 {
		v.SetupFee = formatMoney(p.SetupFee, p.Currency)
	}
	switch {
	case p.TrialDays > 0 && p.Recurring():
		start := h.cfg.Now().AddDate(0, 0, p.TrialDays)
		v.TrialNote = fmt.Sprintf("Free for %d days, then %s from %s. Cancel before then and you won't be charged.",
			p.TrialDays, priceLine(p), formatDate(start, location(d.customer)))
		v.PayLabel = "Start free trial"
	case due > 0:
		v.PayLabel = "Pay " + formatMoney(due, p.Currency)
	default:
		v.PayLabel = "Confirm"
	}
	return v
}

// checkoutPay takes the card, saves it for the customer, and starts the purchase exactly once.
func (h *handler) checkoutPay(w http.ResponseWriter, r *http.Request) {
	cs, m, ok := h.loadCheckoutForm(w, r)
	if !ok {
		return
	}
	if cs.Status == "complete" { // a second click of Pay, after the first one finished
		http.Redirect(w, r, "/checkout/"+cs.Ref+"/success", http.StatusSeeOther)
		return
	}
	if h.spent(cs.FailedCardAttempts) {
		h.checkoutSpent(w, cs, m)
		return
	}
	// The browser drops the first request when Pay is clicked twice; the work it started
	// (a card attached, a workflow started) must still finish, so it does not run on the
	// request's context.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.ActivationWait+30*time.Second)
	defer cancel()
	d, err := h.loadCheckoutData(ctx, cs)
	if err != nil {
		h.unavailable(w, cs, m, err)
		return
	}
	// A concurrent click may have bought the plan already: that purchase is this checkout's own.
	attempt, _ := h.st.CheckoutAttempt(ctx, cs.Ref)
	if h.alreadyOwned(ctx, w, cs, m, d, attempt) {
		return
	}
	v := h.checkoutView(w, r, cs, m, d)
	working := d.customer.Card // put back if this checkout's card fails its first payment
	status, err := h.submitCard(ctx, w, r, cardAttempt{session: cs.Ref, sandbox: cs.Sandbox(), merchant: cs.MerchantRef,
		customer: d.customer, ip: h.clientIP(r)}, &v.cardEntry)
	if err != nil {
		h.internalError(w, m, "save card", err)
		return
	}
	if status == cardsSpent {
		h.checkoutSpent(w, cs, m)
		return
	}
	if status != 0 { // the card was refused: the page again, saying why
		h.renderCheckout(w, status, m, v)
		return
	}
	ref, err := h.st.ReserveCheckoutPurchase(ctx, cs.Ref, domain.NewRef(domain.PrefixPurchase))
	if domain.ErrorCode(err) == domain.CodeConflict { // completed meanwhile by the other click
		http.Redirect(w, r, "/checkout/"+cs.Ref+"/success", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.internalError(w, m, "reserve purchase", err)
		return
	}
	// With the customer here, the card is confirmed (3-D Secure) as the first payment before
	// the purchase starts; a bank that asks shows its authentication step first.
	conf, err := h.confirmCard(ctx, cs, d, ref)
	if err != nil {
		_ = h.st.ReleaseCheckoutPurchase(ctx, cs.Ref, ref)
		h.internalError(w, m, "confirm card", err)
		return
	}
	switch conf.Status {
	case payments.AuthenticationPending:
		h.renderCardAuthentication(w, r, cs, m, d, conf, "")
		return
	case payments.PaymentFailed:
		h.confirmationFailed(ctx, w, r, cs, m, v, ref, conf, working)
		return
	}
	h.startPurchase(ctx, w, r, cs, m, d, v, ref, working)
}

// startPurchase starts purchase ref (its card saved and, where the processor confirms on
// session, confirmed) and shows the outcome of its first payment.
func (h *handler) startPurchase(ctx context.Context, w http.ResponseWriter, r *http.Request, cs store.CheckoutSession,
	m store.Merchant, d checkoutData, v checkoutView, ref string, working *domain.Card) {
	// Start waits for the first payment; past ActivationWait the page says "processing" and
	// refreshes itself, and the workflow carries on regardless.
	startCtx, cancelStart := context.WithTimeout(ctx, h.cfg.ActivationWait)
	st, ref, err := h.buy(startCtx, cs, d.plan, ref)
	timedOut := startCtx.Err() != nil // read before cancelStart, which sets it
	cancelStart()
	switch {
	case err != nil && timedOut:
		h.renderProcessing(w, cs, m)
		return
	case domain.AsError(err) != nil:
		_ = h.st.ReleaseCheckoutPurchase(ctx, cs.Ref, ref)
		if domain.ErrorCode(err) == domain.CodeConflict && h.ownedAfterRace(ctx, w, cs, m, d) {
			return
		}
		v.Error = refusalWords(err)
		h.renderCheckout(w, http.StatusConflict, m, v)
		return
	case err != nil:
		h.internalError(w, m, "start purchase", err)
		return
	}
	out := outcomeOf(st)
	if out.kind == outcomePending {
		out = h.awaitOutcome(ctx, cs, ref)
	}
	switch out.kind {
	case outcomeSucceeded:
		h.completeCheckout(w, r, cs, ref)
	case outcomeAuthenticate: // the bank asks again for the first payment: the customer confirms it
		h.showPaymentAuthentication(ctx, w, r, cs, m, d, ref, "")
	case outcomeFailed:
		h.firstPaymentFailed(ctx, r, cs, ref, out)
		h.restoreCard(ctx, cs, working)
		v.Error = out.message
		h.renderCheckout(w, http.StatusPaymentRequired, m, v)
	default:
		h.renderProcessing(w, cs, m)
	}
}

// firstPaymentFailed frees the session for another card after the purchase it started could
// not take its first payment, counting a refused card on the session (once, whichever request
// sees the failure first).
func (h *handler) firstPaymentFailed(ctx context.Context, r *http.Request, cs store.CheckoutSession, ref string, out outcome) bool {
	released, err := h.st.FailCheckoutPurchase(ctx, cs.Ref, ref)
	if err != nil {
		h.log.ErrorContext(ctx, "release checkout purchase", "session", cs.Ref, "purchase", ref, "err", err)
	}
	if released {
		h.cardRefused(ctx, cardAttempt{session: cs.Ref, sandbox: cs.Sandbox(), merchant: cs.MerchantRef,
			customer: domain.Customer{Ref: cs.CustomerRef}, ip: h.clientIP(r)}, out.code)
	}
	return released
}

func (h *handler) checkoutSpent(w http.ResponseWriter, cs store.CheckoutSession, m store.Merchant) {
	h.renderSpent(w, m, "This checkout link can no longer be used",
		"Ask "+merchantName(m)+" for a new link to complete your purchase.", cs.ReturnURL)
}

// paymentMethodOf reads the card of a session of this mode: Stripe's pm_… from the Payment
// Element, or in the sandbox the typed card, checked the way a card form checks it before
// anything reaches the processor. Its caller reaches it only when cardEntryAvailable: a typed
// number is read for the sandbox alone, and a live processor gets card numbers from its own
// field in the browser.
func (h *handler) paymentMethodOf(r *http.Request, merchant string, sandbox bool) (string, map[string]string) {
	if h.stripeKey(r.Context(), merchant, sandbox) != "" {
		pm := strings.TrimSpace(r.PostFormValue("payment_method"))
		if !strings.HasPrefix(pm, "pm_") || len(pm) > 255 {
			return "", map[string]string{"card": "Enter your card details."}
		}
		return pm, nil
	}
	return validateCard(r.PostFormValue("number"), r.PostFormValue("exp"), r.PostFormValue("cvc"),
		r.PostFormValue("name"), h.cfg.Now())
}

// cardEntryAvailable reports whether the pages can take a card for a session of this mode: the
// sandbox's own form for a sandbox session, Stripe's Payment Element (a publishable key) for a
// live one. Anything else would have to post raw card numbers to this server, or settle live
// money in the sandbox, so no card is taken.
func (h *handler) cardEntryAvailable(ctx context.Context, merchant string, sandbox bool) bool {
	return sandbox || h.stripeKey(ctx, merchant, sandbox) != ""
}

// saveCard attaches pm at the processor of the attempt's mode and makes it the customer's
// default card.
func (h *handler) saveCard(ctx context.Context, a cardAttempt, pm string) error {
	pay, _, err := h.modes.ForMerchant(ctx, a.merchant, a.sandbox)
	if err != nil {
		return err
	}
	c := a.customer
	existing, err := h.st.ProcessorCustomerID(ctx, a.merchant, c.Ref)
	if err != nil {
		return err
	}
	pcus, err := pay.EnsureCustomer(ctx, payments.CustomerInput{MerchantRef: a.merchant, CustomerRef: c.Ref,
		Email: c.Email, Name: c.Name, ExistingID: existing})
	if err != nil {
		return err
	}
	card, err := pay.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: pcus, PaymentMethod: pm})
	if err != nil {
		return err
	}
	return h.st.SetPaymentMethod(ctx, a.merchant, c.Ref, domain.Card{PaymentMethod: card.PaymentMethod, Brand: card.Brand,
		Last4: card.Last4, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear}, pcus)
}

// completeCheckout marks the session paid (once; a second caller finds it done) and shows success.
func (h *handler) completeCheckout(w http.ResponseWriter, r *http.Request, cs store.CheckoutSession, ref string) {
	if _, err := h.st.CompleteCheckoutSession(r.Context(), cs.Ref, ref); err != nil {
		h.log.ErrorContext(r.Context(), "complete checkout session", "session", cs.Ref, "purchase", ref, "err", err)
	}
	http.Redirect(w, r, "/checkout/"+cs.Ref+"/success", http.StatusSeeOther)
}

type outcomeKind int

const (
	outcomePending outcomeKind = iota
	outcomeSucceeded
	outcomeFailed
	// outcomeAuthenticate: the first payment waits for the customer to authenticate it
	outcomeAuthenticate
)

type outcome struct {
	kind    outcomeKind
	message string // for a failure, in words
	code    string // for a failure, the processor's decline code
}

// outcome reads where the purchase's activation got to. A purchase not started yet is pending.
func (h *handler) outcome(ctx context.Context, cs store.CheckoutSession, ref string) outcome {
	st, err := h.cfg.Lifecycle.State(ctx, cs.MerchantRef, ref)
	if err != nil {
		return outcome{kind: outcomePending}
	}
	return outcomeOf(st)
}

// outcomeOf classifies a purchase's state after its activation.
func outcomeOf(st PurchaseState) outcome {
	switch {
	case st.Status == domain.PurchasePending && st.Authenticating:
		return outcome{kind: outcomeAuthenticate}
	case st.Status == domain.PurchasePending || st.Status == "":
		return outcome{kind: outcomePending}
	case st.Status.Ended():
		code := st.EndReason
		if i := strings.LastIndex(code, ": "); i >= 0 {
			code = code[i+2:]
		}
		return outcome{kind: outcomeFailed, message: declineWords(code, ""), code: code}
	}
	return outcome{kind: outcomeSucceeded}
}

// awaitOutcome polls the workflow until the first payment has an answer or the wait is over.
func (h *handler) awaitOutcome(ctx context.Context, cs store.CheckoutSession, ref string) outcome {
	return h.awaitOutcomePast(ctx, cs, ref, outcomePending)
}

// awaitOutcomePast polls the workflow until its outcome is none of waiting, or the wait is over.
func (h *handler) awaitOutcomePast(ctx context.Context, cs store.CheckoutSession, ref string, waiting ...outcomeKind) outcome {
	deadline := time.Now().Add(h.cfg.ActivationWait)
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		out := h.outcome(ctx, cs, ref)
		if !slices.Contains(waiting, out.kind) || time.Now().After(deadline) {
			return out
		}
		select {
		case <-ctx.Done():
			return out
		case <-time.After(delay):
		}
	}
}

// declineWords turns a processor's decline code into a sentence for the customer.
func declineWords(code, fallback string) string {
	switch code {
	case "card_declined", "generic_decline", "do_not_honor":
		return "Your card was declined."
	case "insufficient_funds":
		return "Your card has insufficient funds."
	case "expired_card":
		return "Your card has expired."
	case "incorrect_cvc":
		return "Your card's security code is incorrect."
	case "incorrect_number", "invalid_number":
		if fallback != "" {
			return fallback
		}
		return "Your card number is incorrect."
	case "processing_error":
		return "An error occurred while processing your card. Please try again."
	case "payment_intent_authentication_failure":
		return "The authentication with your bank failed, so nothing was charged."
	case "authentication_required":
		return "Your bank asked you to confirm the payment and it was not confirmed, so nothing was charged."
	}
	if fallback != "" {
		return fallback
	}
	return "Your payment could not be completed."
}
