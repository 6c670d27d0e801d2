package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
)

// validateCard checks a typed card the way any card form does before it reaches a processor,
// and returns the number (digits only) as the sandbox's payment method. Errors are per field,
// in words.
func validateCard(number, exp, cvc, name string, now time.Time) (string, map[string]string) {
	errs := map[string]string{}
	digits := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(number))
	switch {
	case digits == "":
		errs["number"] = "Enter your card number."
	case !allDigits(digits) || len(digits) < 12 || len(digits) > 19 || !luhn(digits):
		errs["number"] = "Your card number is incorrect."
	}
	if msg := checkExpiry(exp, now); msg != "" {
		errs["exp"] = msg
	}
	cvc = strings.TrimSpace(cvc)
	if !allDigits(cvc) || len(cvc) < 3 || len(cvc) > 4 {
		errs["cvc"] = "Enter the 3 or 4 digit security code."
	}
	if strings.TrimSpace(name) == "" {
		errs["name"] = "Enter the name on the card."
	}
	if len(errs) > 0 {
		return "", errs
	}
	return digits, nil
}

// checkExpiry accepts "MM/YY", "MM / YY" and "MM/YYYY"; a card is valid through its month.
func checkExpiry(exp string, now time.Time) string {
	parts := strings.Split(strings.ReplaceAll(exp, " ", ""), "/")
	if len(parts) != 2 {
		return "Enter the expiry date as MM / YY."
	}
	month, err1 := strconv.Atoi(parts[0])
	year, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || month < 1 || month > 12 || (len(parts[1]) != 2 && len(parts[1]) != 4) {
		return "Enter the expiry date as MM / YY."
	}
	if year < 100 {
		year += 2000
	}
	if year*12+month < now.Year()*12+int(now.Month()) {
		return "Your card has expired."
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// luhn is the checksum every card number carries; it catches most typos.
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardEntry is the card field of a page (the checkout, the portal's update card) and what it
// says back after a refused card.
type cardEntry struct {
	Error       string
	FieldErrors map[string]string
	Form        cardForm

	Sandbox        bool
	Stripe         bool
	PublishableKey string
	Currency       string // lower case, for Stripe's Payment Element
}

// cardForm echoes what the customer typed back after an error, never the number or CVC.
type cardForm struct {
	Name string
	Exp  string
}

// cardEntry is the card field of a session of this mode: the sandbox's test-card form, or
// Stripe's Payment Element for a live session.
func (h *handler) cardEntry(ctx context.Context, merchant string, sandbox bool, currency string) cardEntry {
	key := h.stripeKey(ctx, merchant, sandbox)
	return cardEntry{Sandbox: sandbox, Stripe: key != "", PublishableKey: key, Currency: strings.ToLower(currency)}
}

// cardAttempt is a card posted on a page: the session it is posted on and whose card it is.
type cardAttempt struct {
	session  string // cs_… or ps_…
	sandbox  bool   // the session's mode: the card goes to that mode's processor
	merchant string
	customer domain.Customer
	ip       string
}

// cardsSpent is the status submitCard answers when the session has had its refused cards.
const cardsSpent = http.StatusGone

// submitCard reads the posted card and saves it as the customer's default. A card refused by
// its form check or declined by the processor is written into e, with the status to render the
// page again with; 0 means the card was saved. Before anything reaches the processor the card
// limits are checked: 429 (with Retry-After set on w) when the client address or the customer
// must wait, cardsSpent when the session has had its refused cards.
func (h *handler) submitCard(ctx context.Context, w http.ResponseWriter, r *http.Request, a cardAttempt, e *cardEntry) (int, error) {
	e.Form = cardForm{Name: strings.TrimSpace(r.PostFormValue("name")), Exp: strings.TrimSpace(r.PostFormValue("exp"))}
	if !h.cardEntryAvailable(ctx, a.merchant, a.sandbox) {
		h.log.ErrorContext(ctx, "card entry refused: a live session needs Stripe with its publishable key", "session", a.session)
		e.Error = "Card payments are not available right now. Nothing was charged."
		return http.StatusServiceUnavailable, nil
	}
	pm, fieldErrs := h.paymentMethodOf(r, a.merchant, a.sandbox)
	if len(fieldErrs) > 0 {
		e.FieldErrors, e.Error = fieldErrs, "Please check your card details."
		return http.StatusUnprocessableEntity, nil
	}
	if status, err := h.admitCard(ctx, w, a, e); status != 0 || err != nil {
		return status, err
	}
	err := h.saveCard(ctx, a, pm)
	if d, ok := payments.IsDecline(err); ok {
		h.cardRefused(ctx, a, d.Code)
		e.Error = declineWords(d.Code, d.Message)
		return http.StatusPaymentRequired, nil
	}
	// Accepted, or a fault of ours or the processor's: either way not a refused card.
	h.ips.refund(a.ip, time.Now())
	if rerr := h.st.ReleaseCardAttempt(ctx, a.session); err == nil {
		err = rerr
	}
	return 0, err
}

// admitCard applies the card limits to an attempt and, when it may go ahead, counts it as
// refused until the card is accepted (see store.ClaimCardAttempt).
func (h *handler) admitCard(ctx context.Context, w http.ResponseWriter, a cardAttempt, e *cardEntry) (int, error) {
	if ok, wait := h.ips.take(a.ip, time.Now()); !ok {
		h.log.WarnContext(ctx, "card attempts limited", "by", "client_ip", "client_ip", a.ip, "session", a.session, "merchant", a.merchant)
		e.Error = "Too many card attempts from your network. For your security, try again in " + retryAfter(w, wait) + ". Nothing was charged."
		return http.StatusTooManyRequests, nil
	}
	n, latest, err := h.st.CustomerCardFailures(ctx, a.merchant, a.customer.Ref, h.limits.CustomerWindow)
	if err != nil {
		return 0, err
	}
	if n >= h.limits.PerCustomer {
		h.log.WarnContext(ctx, "card attempts limited", "by", "customer", "customer", a.customer.Ref, "merchant", a.merchant,
			"session", a.session, "client_ip", a.ip, "refused", n)
		e.Error = "Too many cards were declined for this account. For your security, try again in " +
			retryAfter(w, time.Until(latest.Add(h.limits.CustomerWindow))) + ". Nothing was charged."
		return http.StatusTooManyRequests, nil
	}
	claimed, err := h.st.ClaimCardAttempt(ctx, a.session, h.limits.PerSession)
	if err != nil {
		return 0, err
	}
	if !claimed {
		h.log.WarnContext(ctx, "card attempts limited", "by", "session", "session", a.session, "merchant", a.merchant, "client_ip", a.ip)
		return cardsSpent, nil
	}
	return 0, nil
}

// cardRefused logs a card the processor refused (the decline code only: never the card).
func (h *handler) cardRefused(ctx context.Context, a cardAttempt, code string) {
	h.log.WarnContext(ctx, "card declined", "session", a.session, "merchant", a.merchant, "customer", a.customer.Ref,
		"client_ip", a.ip, "code", code)
}

// spent reports whether a session has had its refused cards.
func (h *handler) spent(failed int) bool { return failed >= h.limits.PerSession }

// renderSpent answers a page whose session has had its refused cards.
func (h *handler) renderSpent(w http.ResponseWriter, m store.Merchant, heading, next, returnURL string) {
	h.renderMessage(w, cardsSpent, m, message{
		Heading:   heading,
		Body:      "Too many cards were declined on this link, so we closed it to keep your account safe. Nothing was charged. " + next,
		ReturnURL: safeURL(returnURL),
	})
}
