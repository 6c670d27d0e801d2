package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
)

// portalView is the customer portal.
type portalView struct {
	Base          string // /portal/<ps_…>
	CSRF          string
	CustomerName  string
	CustomerEmail string
	Notice        string
	Error         string
	Live          []purchaseView
	Past          []purchaseView
	Card          string
	CardExpiry    string
	History       []txnView
	Documents     []documentView // invoices and credit notes, newest first
	ReturnURL     string
	MerchantName  string
}

type purchaseView struct {
	Ref         string
	ProductName string
	PlanName    string
	Status      string
	StatusClass string
	Amount      string
	// Seats is the purchase's quantity in words ("5 seats × 10.00 USD"), empty for one seat.
	Seats         string
	DateLabel     string
	Date          string
	Note          string
	NoteClass     string // warn for a payment problem
	CanCancel     bool
	CanReactivate bool
	PastDue       bool
	CanChange     bool
	// Scheduled is the plan change waiting for the period end, in words.
	Scheduled string
	// PayURL is the page that completes the overdue payment the bank wants authenticated.
	PayURL string
}

type txnView struct {
	Date        string
	Description string
	Amount      string
	Status      string
	StatusClass string
	Detail      string
}

// portalPage shows the customer's purchases, card and payment history.
func (h *handler) portalPage(w http.ResponseWriter, r *http.Request) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	h.renderPortal(w, r, ps, m, http.StatusOK, "")
}

func (h *handler) renderPortal(w http.ResponseWriter, r *http.Request, ps store.CustomerSession, m store.Merchant, status int, errMsg string) {
	ctx := r.Context()
	c, err := h.st.GetCustomer(ctx, ps.MerchantRef, ps.CustomerRef)
	if err != nil {
		h.portalGone(w, ps, m, err)
		return
	}
	loc := location(c)
	v := portalView{Base: "/portal/" + ps.Ref, CSRF: h.csrfToken(w, r, ps.Ref), CustomerName: c.Name,
		CustomerEmail: c.Email, Error: errMsg, ReturnURL: safeURL(ps.ReturnURL), MerchantName: merchantName(m)}
	if c.Card != nil {
		v.Card = cardLabel(*c.Card)
		v.CardExpiry = fmt.Sprintf("Expires %02d/%d", c.Card.ExpMonth, c.Card.ExpYear%100)
	}
	purchases, _, err := h.st.ListPurchases(ctx, ps.MerchantRef, store.PurchaseFilter{CustomerRef: c.Ref}, store.Page{Page: 1, Limit: 100})
	if err != nil {
		h.internalError(w, m, "list purchases", err)
		return
	}
	purchases = sessionMode(ps, purchases)
	products := map[string]string{}
	productName := func(ref string) string {
		if n, ok := products[ref]; ok {
			return n
		}
		n := ref
		if p, err := h.st.GetProduct(ctx, ps.MerchantRef, ref); err == nil {
			n = p.Name
		}
		products[ref] = n
		return n
	}
	byRef := map[string]domain.Purchase{}
	for _, p := range purchases {
		byRef[p.Ref] = p
		pv := purchaseViewOf(p, productName(p.ProductRef), loc)
		pv.CanChange = canChange(p) && len(h.changeablePlans(r, p)) > 0
		if pv.PastDue && p.PastDueReason == payments.CodeAuthenticationRequired {
			if a, err := h.st.OpenPaymentAuthentication(ctx, p.MerchantRef, p.Ref); err == nil {
				pv.PayURL = "/pay/" + a.Token
				pv.Note = "Your bank asks you to confirm your last payment. Confirm it to keep your access; you won't be charged twice."
			}
		}
		if p.Status.Ended() {
			v.Past = append(v.Past, pv)
		} else {
			v.Live = append(v.Live, pv)
		}
	}
	if r.URL.Query().Get("done") != "" && errMsg == "" {
		v.Notice = noticeText(r.URL.Query().Get("done"), byRef[r.URL.Query().Get("purchase")], loc)
	}
	txns, _, err := h.st.ListTransactions(ctx, ps.MerchantRef, store.TransactionFilter{CustomerRef: c.Ref}, store.Page{Page: 1, Limit: 50})
	if err != nil {
		h.internalError(w, m, "list transactions", err)
		return
	}
	for _, t := range txns {
		desc := productName(t.ProductRef)
		if p, ok := byRef[t.PurchaseRef]; ok {
			desc += " · " + p.PlanName
		}
		v.History = append(v.History, txnViewOf(t, desc, loc))
	}
	if v.Documents, err = h.customerDocuments(ctx, ps); err != nil {
		h.internalError(w, m, "list invoices", err)
		return
	}
	h.render(w, status, "portal", layout{Title: "Billing · " + merchantName(m), Merchant: m, Sandbox: ps.Sandbox()}, v)
}

// portalDocuments is how many of a customer's latest invoices and credit notes the portal lists.
const portalDocuments = 50

// customerDocuments are the session's customer's latest invoices and credit notes in the
// session's mode, newest first.
func (h *handler) customerDocuments(ctx context.Context, ps store.CustomerSession) ([]documentView, error) {
	f := store.InvoiceFilter{Mode: domain.ModeOf(ps.Sandbox()), CustomerRef: ps.CustomerRef}
	page := store.Page{Page: 1, Limit: portalDocuments}
	invoices, _, err := h.st.ListInvoices(ctx, ps.MerchantRef, f, page)
	if err != nil {
		return nil, err
	}
	notes, _, err := h.st.ListCreditNotes(ctx, ps.MerchantRef, f, page)
	if err != nil {
		return nil, err
	}
	var out []documentView
	for _, inv := range invoices {
		if inv.Status != domain.InvoiceDraft {
			out = append(out, invoiceDocument(inv))
		}
	}
	for _, cn := range notes {
		out = append(out, creditNoteDocument(cn))
	}
	slices.SortStableFunc(out, func(a, b documentView) int { return b.issued.Compare(a.issued) })
	return out[:min(len(out), portalDocuments)], nil
}

func (h *handler) portalGone(w http.ResponseWriter, ps store.CustomerSession, m store.Merchant, err error) {
	if domain.ErrorCode(err) != domain.CodeNotFound {
		h.internalError(w, m, "load customer", err)
		return
	}
	h.renderMessage(w, http.StatusGone, m, message{Heading: "This account is no longer available",
		Body: "We couldn't find the billing account this link was for.", ReturnURL: safeURL(ps.ReturnURL)})
}

func purchaseViewOf(p domain.Purchase, product string, loc *time.Location) purchaseView {
	v := purchaseView{Ref: p.Ref, ProductName: product, PlanName: p.PlanName}
	v.Amount = planAmount(domain.Plan{Type: p.PlanType, Price: p.Amount, Currency: p.Currency, BillingCycle: p.BillingCycle})
	if p.Quantity > 1 { // a per-seat plan: the amount is per seat
		v.Seats = fmt.Sprintf("%d seats × %s", p.Quantity, formatMoney(p.Amount, p.Currency))
		v.Amount = planAmount(domain.Plan{Type: p.PlanType, Price: p.Amount * p.Quantity, Currency: p.Currency,
			BillingCycle: p.BillingCycle})
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return formatDate(*t, loc)
	}
	status := p.DisplayStatus()
	if p.Status == domain.PurchaseTrialing && p.CancelledAt != nil {
		status = domain.PurchasePendingCancellation
	}
	v.Status, v.StatusClass = statusLabel(status)
	switch status {
	case domain.PurchaseActive:
		v.CanCancel = p.PlanType != domain.PlanOneTime && p.PlanType != domain.PlanFree
		if p.NextBillingAt != nil {
			v.DateLabel, v.Date = "Renews on", date(p.NextBillingAt)
		} else if p.CurrentPeriodEnd != nil {
			v.DateLabel, v.Date = "Access until", date(p.CurrentPeriodEnd)
		}
	case domain.PurchaseTrialing:
		v.CanCancel = true
		v.DateLabel, v.Date = "Trial ends", date(p.TrialEnd)
	case domain.PurchasePendingCancellation:
		v.CanReactivate = true
		end := p.CurrentPeriodEnd
		if p.Status == domain.PurchaseTrialing {
			end = p.TrialEnd
		}
		v.DateLabel, v.Date = "Access until", date(end)
		v.Note = "This plan won't renew and you won't be charged again. Reactivate before then to keep it."
	case domain.PurchasePastDue, domain.PurchaseSuspended:
		v.PastDue, v.CanCancel, v.NoteClass = true, true, "warn"
		v.DateLabel, v.Date = "Next attempt", date(p.NextBillingAt)
		v.Note = "We couldn't take your last payment. Update your card or retry the payment to keep your access."
		if status == domain.PurchaseSuspended {
			v.Note = "Your access is paused because a payment failed. Update your card or retry the payment to restore it."
		}
	case domain.PurchasePaused:
		if pa := p.Pause; pa != nil && pa.ResumesAt != nil {
			v.DateLabel, v.Date = "Resumes on", date(pa.ResumesAt)
		}
		v.Note = "Your plan is paused: you won't be charged while it is, and you keep your access."
		if !p.HasAccess() {
			v.Note = "Your plan is paused: you won't be charged while it is, and your access is paused too."
		}
		if p.CancelledAt != nil {
			v.DateLabel, v.Date = "Ends on", date(p.CurrentPeriodEnd)
			v.Note = "Your plan is paused and won't renew; you won't be charged again."
		}
	case domain.PurchasePending:
		v.Note = "Your first payment is being processed."
	default:
		v.DateLabel, v.Date = "Ended on", date(p.EndedAt)
	}
	if sc := p.ScheduledChange; sc != nil && !p.Status.Ended() {
		v.Scheduled = fmt.Sprintf("Changes to %s (%s %s) on %s.", sc.PlanName, formatMoney(sc.Amount, sc.Currency),
			cadence(domain.Plan{BillingCycle: sc.BillingCycle}), formatDate(sc.EffectiveAt, loc))
		if sc.Quantity > 1 {
			v.Scheduled = fmt.Sprintf("Changes to %s, %d seats × %s %s, on %s.", sc.PlanName, sc.Quantity,
				formatMoney(sc.Amount, sc.Currency), cadence(domain.Plan{BillingCycle: sc.BillingCycle}), formatDate(sc.EffectiveAt, loc))
		}
	}
	return v
}

func statusLabel(s domain.PurchaseStatus) (string, string) {
	switch s {
	case domain.PurchaseActive:
		return "Active", "ok"
	case domain.PurchaseTrialing:
		return "Trial", "info"
	case domain.PurchasePendingCancellation:
		return "Pending cancellation", "warn"
	case domain.PurchasePastDue:
		return "Past due", "bad"
	case domain.PurchaseSuspended:
		return "Suspended", "bad"
	case domain.PurchasePaused:
		return "Paused", "info"
	case domain.PurchasePending:
		return "Processing", "info"
	case domain.PurchaseCancelled:
		return "Cancelled", "muted"
	case domain.PurchaseExpired:
		return "Expired", "muted"
	case domain.PurchaseRefunded:
		return "Refunded", "muted"
	}
	return string(s), "muted"
}

func txnViewOf(t domain.Transaction, desc string, loc *time.Location) txnView {
	v := txnView{Date: formatDate(t.CreatedAt, loc), Description: desc, Amount: formatMoney(t.Amount, t.Currency)}
	switch {
	case t.Kind == domain.TxnRefund:
		v.Description = "Refund · " + desc
		v.Amount = formatMoney(-t.Amount, t.Currency)
		v.Status, v.StatusClass = "Refunded", "muted"
		if t.Status != domain.TxnSucceeded {
			v.Status, v.StatusClass = upperFirst(t.Status), "warn"
		}
		v.Detail = t.Reason
	case t.Status == domain.TxnFailed:
		v.Status, v.StatusClass = "Failed", "bad"
		v.Detail = declineWords(t.FailureCode, t.FailureMessage)
	case t.Status == domain.TxnPending:
		v.Status, v.StatusClass = "Pending", "info"
	case t.RefundedAmount >= t.Amount && t.Amount > 0:
		v.Status, v.StatusClass = "Refunded", "muted"
	case t.RefundedAmount > 0:
		v.Status, v.StatusClass = "Partly refunded", "warn"
		v.Detail = formatMoney(t.RefundedAmount, t.Currency) + " refunded"
	default:
		v.Status, v.StatusClass = "Paid", "ok"
	}
	return v
}

// noticeText is the confirmation after an action, read from the purchase as it is now. Only
// known codes are shown: the text never comes from the URL.
func noticeText(done string, p domain.Purchase, loc *time.Location) string {
	end := ""
	if p.CurrentPeriodEnd != nil {
		end = formatDate(*p.CurrentPeriodEnd, loc)
	}
	switch done {
	case "cancelled":
		if end != "" {
			return fmt.Sprintf("Your renewal is cancelled. You keep access to %s until %s.", p.PlanName, end)
		}
		return "Your renewal is cancelled."
	case "reactivated":
		if p.NextBillingAt != nil {
			return fmt.Sprintf("Welcome back! Your %s plan will renew on %s.", p.PlanName, formatDate(*p.NextBillingAt, loc))
		}
		return "Your plan will renew as before."
	case "paid":
		return "Your payment went through. Thank you!"
	case "changed":
		if sc := p.ScheduledChange; sc != nil {
			return fmt.Sprintf("Your plan changes to %s on %s. Until then you keep %s.", sc.PlanName, formatDate(sc.EffectiveAt, loc), p.PlanName)
		}
		return fmt.Sprintf("You're now on the %s plan.", p.PlanName)
	case "kept":
		return fmt.Sprintf("The scheduled change is cancelled: you stay on %s.", p.PlanName)
	case "card":
		return "Your card was updated. Future payments will use it."
	case "card_paid":
		return "Your card was updated and your overdue payment went through. Thank you!"
	}
	return ""
}

// ownPurchase loads the purchase named by the form when it belongs to the session's customer and
// mode.
func (h *handler) ownPurchase(ctx context.Context, ps store.CustomerSession, ref string) (domain.Purchase, bool) {
	if !domain.HasPrefix(ref, domain.PrefixPurchase) {
		return domain.Purchase{}, false
	}
	p, err := h.st.GetPurchase(ctx, ps.MerchantRef, ref)
	return p, err == nil && p.CustomerRef == ps.CustomerRef && p.Sandbox == ps.Sandbox()
}

// sessionMode keeps the purchases of the portal session's mode: a session a sandbox key made
// shows and acts on sandbox purchases only, and the reverse.
func sessionMode(ps store.CustomerSession, list []domain.Purchase) []domain.Purchase {
	return slices.DeleteFunc(list, func(p domain.Purchase) bool { return p.Sandbox != ps.Sandbox() })
}

// portalConfirmCancel is the confirmation step before a renewal is cancelled.
func (h *handler) portalConfirmCancel(w http.ResponseWriter, r *http.Request) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	p, ok := h.ownPurchase(r.Context(), ps, r.URL.Query().Get("purchase"))
	if !ok {
		h.notFound(w, r)
		return
	}
	c, _ := h.st.GetCustomer(r.Context(), ps.MerchantRef, ps.CustomerRef)
	loc := location(c)
	pv := purchaseViewOf(p, "", loc)
	if prod, err := h.st.GetProduct(r.Context(), ps.MerchantRef, p.ProductRef); err == nil {
		pv.ProductName = prod.Name
	}
	until := pv.Date
	if p.CurrentPeriodEnd != nil && p.Status == domain.PurchaseActive {
		until = formatDate(*p.CurrentPeriodEnd, loc)
	}
	v := struct {
		Base, CSRF string
		Purchase   purchaseView
		Until      string
	}{"/portal/" + ps.Ref, h.csrfToken(w, r, ps.Ref), pv, until}
	h.render(w, http.StatusOK, "confirm_cancel", layout{Title: "Cancel renewal · " + merchantName(m), Merchant: m,
		Sandbox: ps.Sandbox()}, v)
}

// portalAction runs one workflow update for a purchase of the session's customer and shows
// its answer: a redirect to the portal with a notice, or the refusal in words.
func (h *handler) portalAction(w http.ResponseWriter, r *http.Request, done string,
	act func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error),
	applied func(domain.Purchase) bool) {
	ps, m, ok := h.loadPortal(w, r)
	if !ok {
		return
	}
	if !h.checkCSRF(r, ps.Ref) {
		h.forbidCSRF(w, m, "/portal/"+ps.Ref)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	p, ok := h.ownPurchase(ctx, ps, r.PostFormValue("purchase"))
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := act(ctx, ps, p); err != nil {
		h.renderPortal(w, r, ps, m, http.StatusConflict, refusalWords(err))
		return
	}
	h.awaitProjection(ctx, ps.MerchantRef, p.Ref, applied)
	http.Redirect(w, r, "/portal/"+ps.Ref+"?done="+done+"&purchase="+url.QueryEscape(p.Ref), http.StatusSeeOther)
}

func (h *handler) portalCancel(w http.ResponseWriter, r *http.Request) {
	h.portalAction(w, r, "cancelled", func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error) {
		reason := r.PostFormValue("reason")
		if len(reason) > 500 {
			reason = reason[:500]
		}
		if reason == "" {
			reason = "Cancelled by the customer in the billing portal"
		}
		return h.cfg.Lifecycle.CancelRenewal(ctx, ps.MerchantRef, p.Ref, reason)
	}, func(p domain.Purchase) bool { return p.CancelledAt != nil || p.Status.Ended() })
}

func (h *handler) portalReactivate(w http.ResponseWriter, r *http.Request) {
	h.portalAction(w, r, "reactivated", func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error) {
		return h.cfg.Lifecycle.Reactivate(ctx, ps.MerchantRef, p.Ref)
	}, func(p domain.Purchase) bool { return p.CancelledAt == nil })
}

func (h *handler) portalRetry(w http.ResponseWriter, r *http.Request) {
	h.portalAction(w, r, "paid", func(ctx context.Context, ps store.CustomerSession, p domain.Purchase) (PurchaseState, error) {
		st, err := h.cfg.Lifecycle.RetryPayment(ctx, ps.MerchantRef, p.Ref)
		if err == nil && isOverdue(st.Status) {
			return st, domain.Errorf(domain.CodePaymentRequired, "", "%s Update your card and try again.", declineWords(st.LastError, ""))
		}
		return st, err
	}, settled)
}

// overdueStatuses are the states of a purchase whose renewal payment failed.
var overdueStatuses = []domain.PurchaseStatus{domain.PurchasePastDue, domain.PurchaseSuspended}

func isOverdue(s domain.PurchaseStatus) bool { return slices.Contains(overdueStatuses, s) }

// settled is the projection a retried payment waits for: nothing overdue any more.
func settled(p domain.Purchase) bool { return !isOverdue(p.Status) }

// awaitProjection waits briefly for the Postgres projection to show what the workflow answered,
// so the page after the redirect never shows the state from before the action.
func (h *handler) awaitProjection(ctx context.Context, merchant, ref string, applied func(domain.Purchase) bool) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p, err := h.st.GetPurchase(ctx, merchant, ref); err != nil || applied(p) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var declineCodeRe = regexp.MustCompile(`\(([a-z_]+)\)`)

// refusalWords is what the workflow said, for people: its validator's message.
func refusalWords(err error) string {
	e := domain.AsError(err)
	// A declined retry names the processor's code, e.g. "the payment failed again
	// (card_declined): …"; the customer reads the decline in words instead.
	if e != nil && e.Code == domain.CodePaymentRequired {
		if m := declineCodeRe.FindStringSubmatch(e.Message); m != nil {
			return declineWords(m[1], "") + " Update your card and try again."
		}
	}
	if e != nil && e.Code != domain.CodeInternal && e.Message != "" {
		return upperFirst(e.Message)
	}
	return "We couldn't do that just now. Please try again in a moment."
}

func upperFirst(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-32) + s[1:]
	}
	return s
}
