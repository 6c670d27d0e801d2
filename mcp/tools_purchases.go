package mcp

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type purchaseView struct {
	Reference        string     `json:"reference"`
	CustomerRef      string     `json:"customerRef"`
	ProductRef       string     `json:"productRef"`
	PlanRef          string     `json:"planRef"`
	Status           string     `json:"status"`
	DisplayStatus    string     `json:"displayStatus"`
	HasAccess        bool       `json:"hasAccess"`
	PlanName         string     `json:"planName"`
	PlanType         string     `json:"planType"`
	Amount           int64      `json:"amount"`
	Quantity         int64      `json:"quantity"`
	Currency         string     `json:"currency"`
	BillingCycle     string     `json:"billingCycle"`
	CancelledAt      *time.Time `json:"cancelledAt"`
	StartedAt        *time.Time `json:"startedAt"`
	CurrentPeriodEnd *time.Time `json:"currentPeriodEnd"`
	NextBillingAt    *time.Time `json:"nextBillingAt"`
	TrialEnd         *time.Time `json:"trialEnd"`
	EndedAt          *time.Time `json:"endedAt"`
	ScheduledChange  *struct {
		PlanRef     string     `json:"planRef"`
		PlanName    string     `json:"planName"`
		Quantity    int64      `json:"quantity"`
		EffectiveAt *time.Time `json:"effectiveAt"`
	} `json:"scheduledChange"`
	Pause *struct {
		Behavior  string     `json:"behavior"`
		PausedAt  *time.Time `json:"pausedAt"`
		ResumesAt *time.Time `json:"resumesAt"`
	} `json:"pause"`
}

// pauseLine says what a paused purchase grants and until when.
func (p purchaseView) pauseLine() string {
	access := "access kept, nothing charged"
	if p.Pause.Behavior == "void" {
		access = "no access, nothing charged"
	}
	if d := day(p.Pause.ResumesAt); d != "" {
		return fmt.Sprintf("%s; resumes on %s", access, d)
	}
	return access + "; until resumed"
}

func (p purchaseView) status() string {
	if p.DisplayStatus != "" {
		return p.DisplayStatus
	}
	return p.Status
}

// block is the seed's description of one purchase.
func (p purchaseView) block() string {
	var b strings.Builder
	plan := p.PlanName
	if plan == "" {
		plan = p.PlanRef
	}
	fmt.Fprintf(&b, "- Plan: %s (%s)\n- Status: %s", plan, planPrice(p.PlanType, p.Amount, 0, p.Currency, p.BillingCycle, 0),
		titleStatus(p.status()))
	if p.Quantity > 1 {
		fmt.Fprintf(&b, "\n- Seats: %d (%s each period)", p.Quantity, money(p.Amount*p.Quantity, p.Currency))
	}
	if d := day(p.StartedAt); d != "" {
		fmt.Fprintf(&b, "\n- Started: %s", d)
	}
	switch {
	case p.status() == "pending_cancellation":
		fmt.Fprintf(&b, "\n- Access until: %s (renewal cancelled)", day(p.CurrentPeriodEnd))
	case p.NextBillingAt != nil:
		fmt.Fprintf(&b, "\n- Next billing: %s", day(p.NextBillingAt))
	case p.EndedAt != nil:
		fmt.Fprintf(&b, "\n- Ended: %s", day(p.EndedAt))
	}
	if p.Pause != nil {
		fmt.Fprintf(&b, "\n- Paused since %s: %s", day(p.Pause.PausedAt), p.pauseLine())
	}
	if sc := p.ScheduledChange; sc != nil {
		fmt.Fprintf(&b, "\n- Scheduled change: to %s on %s", seatsOf(cmp.Or(sc.PlanName, sc.PlanRef), sc.Quantity), day(sc.EffectiveAt))
	}
	fmt.Fprintf(&b, "\n- Reference: %s", p.Reference)
	return b.String()
}

var purchaseStatuses = []string{"pending", "trialing", "active", "pending_cancellation", "past_due", "suspended",
	"paused", "cancelled", "expired", "refunded"}

func purchaseTools() []tool {
	return []tool{
		{name: "activate_plan", title: "Activate a plan for a customer",
			desc: "Put a customer on a product's plan without checkout (seed 003 activatePlan): free plans and usage-based plans " +
				"activate at once, recurring and hybrid plans charge the customer's card on file. A purchase on another plan of " +
				"the same product is switched. Answers activated, already_active, topup_required, payment_required (with a " +
				"checkoutUrl to send the customer) or invalid.",
			params: []param{customerRef(true), productRef(true), planRef(false, "The plan's reference (pln_…); the product's default plan when omitted."),
				quantityParam("The seats to buy on a plan priced per seat (price × quantity each period); 1 when omitted.")},
			run: activatePlan},
		{name: "list_purchases", title: "List purchases",
			desc: "List purchases, newest first, filtered by status, customer, product or plan. pending_cancellation means the " +
				"renewal was cancelled and access runs to the period end.",
			params: withPaging(
				param{name: "status", typ: tString, enum: purchaseStatuses, desc: "Only purchases in this status."},
				customerRef(false), productRef(false), planRef(false, "Only purchases of this plan (pln_…).")),
			readOnly: true, run: listPurchases},
		{name: "get_purchase", title: "Get a purchase",
			desc:   "Get one purchase: plan, status, access, current period and next billing date.",
			params: []param{purchaseRef(true)}, readOnly: true, run: getPurchase},
		{name: "get_purchases_by_customer", title: "Purchases of a customer",
			desc:   "List a customer's purchases with plan, status, start and next billing date.",
			params: withPaging(customerRef(true)), readOnly: true, run: purchasesByCustomer},
		{name: "get_purchases_by_product", title: "Purchases of a product",
			desc:   "List the purchases of a product.",
			params: withPaging(productRef(true)), readOnly: true, run: purchasesByProduct},
		{name: "cancel_renewal", title: "Cancel a renewal",
			desc: "Cancel a purchase's renewal: nothing more is charged, and the customer keeps access until the end of the " +
				"current billing period, when the purchase becomes cancelled. Undo with reactivate_renewal before then.",
			params:     []param{purchaseRef(true), {name: "reason", typ: tString, desc: "Why, e.g. \"Customer requested downgrade\"."}},
			idempotent: true, run: cancelRenewal},
		{name: "reactivate_renewal", title: "Reactivate a renewal",
			desc: "Undo a cancelled renewal while the current period is still running; the purchase renews as before. " +
				"Refused once the period has ended.",
			params: []param{purchaseRef(true)}, idempotent: true, run: reactivateRenewal},
		{name: "pause_purchase", title: "Pause a purchase's collection",
			desc: "Pause collection of an active purchase: nothing renews or is charged until it resumes. behavior keep_access " +
				"lets the customer keep using the product meanwhile; void withholds access. With resumesAt the purchase resumes " +
				"on its own then, keeping its billing anchor. Past-due, trialing, cancelled and ended purchases cannot pause.",
			params: []param{purchaseRef(true),
				{name: "behavior", typ: tString, required: true, enum: []string{"keep_access", "void"},
					desc: "keep_access: access goes on, nothing is charged. void: no access, nothing is charged."},
				{name: "resumesAt", typ: tString, desc: "When to resume on its own (RFC 3339, e.g. 2026-03-01T00:00:00Z); omit to pause until resumed."}},
			run: pausePurchase},
		{name: "resume_purchase", title: "Resume a paused purchase",
			desc: "Resume collection of a paused purchase. anchor keep (default): the customer is charged next at the usual " +
				"billing date; the rest of the current period is not charged. anchor now: a new billing period starts now and " +
				"is charged at once.",
			params: []param{purchaseRef(true),
				{name: "anchor", typ: tString, enum: []string{"keep", "now"}, desc: "keep (default) or now."}},
			run: resumePurchase},
	}
}

func pausePurchase(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.post(ctx, path("purchases", ref, "pause"), a.body("behavior", "resumesAt"), nil)
	if err != nil {
		return "", nil, err
	}
	p, out := purchaseAfter(ctx, c, ref, out)
	if p.Pause == nil {
		return "The purchase is " + titleStatusLower(p.status()) + ".", out, nil
	}
	return fmt.Sprintf("%s's purchase is paused: %s.", customerName(ctx, c, p.CustomerRef), p.pauseLine()), out, nil
}

func resumePurchase(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.post(ctx, path("purchases", ref, "resume"), a.body("anchor"), nil)
	if err != nil {
		return "", nil, err
	}
	p, out := purchaseAfter(ctx, c, ref, out)
	who := customerName(ctx, c, p.CustomerRef)
	if d := day(p.NextBillingAt); d != "" {
		return fmt.Sprintf("%s's purchase is resumed (%s); next billing on %s.", who, titleStatusLower(p.status()), d), out, nil
	}
	return fmt.Sprintf("%s's purchase is resumed (%s).", who, titleStatusLower(p.status())), out, nil
}

func listPurchases(ctx context.Context, c *call, a args) (string, any, error) {
	return purchaseList(ctx, c, a.query("status", "customerRef", "productRef", "planRef", "page", "limit"), "")
}

func purchasesByCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	who := customerName(ctx, c, a.str("customerRef"))
	return purchaseList(ctx, c, a.query("customerRef", "page", "limit"), who)
}

func purchasesByProduct(ctx context.Context, c *call, a args) (string, any, error) {
	return purchaseList(ctx, c, a.query("productRef", "page", "limit"), "")
}

// purchaseList answers a list of purchases; with who set it reads as the seed does: "Jane Smith
// has 1 active purchase:".
func purchaseList(ctx context.Context, c *call, q map[string][]string, who string) (string, any, error) {
	var list struct {
		listPage
		Data []purchaseView `json:"data"`
	}
	out, err := c.get(ctx, path("purchases"), q, &list)
	if err != nil {
		return "", nil, err
	}
	active := 0
	for _, p := range list.Data {
		if p.HasAccess {
			active++
		}
	}
	var b strings.Builder
	switch {
	case who != "" && list.Total == 0:
		return who + " has no purchases.", out, nil
	case list.Total == 0:
		return "No purchases found.", out, nil
	case who != "" && active == list.Total:
		fmt.Fprintf(&b, "%s has %d active %s:", who, active, plural(active, "purchase", "purchases"))
	case who != "":
		fmt.Fprintf(&b, "%s has %d %s (%d active):", who, list.Total, plural(list.Total, "purchase", "purchases"), active)
	default:
		fmt.Fprintf(&b, "%d %s (%d with access):", list.Total, plural(list.Total, "purchase", "purchases"), active)
	}
	for _, p := range list.Data {
		b.WriteString("\n\n" + p.block())
	}
	if list.Total > len(list.Data) {
		fmt.Fprintf(&b, "\n\n(Showing page %d; %d in all.)", list.Page, list.Total)
	}
	return b.String(), out, nil
}

func getPurchase(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	var p purchaseView
	out, err := c.get(ctx, path("purchases", ref), nil, &p)
	if err != nil {
		return "", nil, err
	}
	return "Purchase of " + customerName(ctx, c, p.CustomerRef) + ":\n" + p.block(), out, nil
}

// purchaseAfter reads the purchase out of an action's answer: the purchase itself, or an object
// holding it under "purchase"; when neither carries the period, it is read back.
func purchaseAfter(ctx context.Context, c *call, ref string, out map[string]any) (purchaseView, map[string]any) {
	var p purchaseView
	raw, _ := json.Marshal(out)
	_ = json.Unmarshal(raw, &p)
	if p.Reference == "" {
		var wrapped struct {
			Purchase purchaseView `json:"purchase"`
		}
		_ = json.Unmarshal(raw, &wrapped)
		p = wrapped.Purchase
	}
	if p.CurrentPeriodEnd == nil {
		var fresh purchaseView
		if got, err := c.get(ctx, path("purchases", ref), nil, &fresh); err == nil {
			p = fresh
			if len(out) == 0 {
				out = got
			}
		}
	}
	return p, out
}

func cancelRenewal(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.post(ctx, path("purchases", ref, "cancel-renewal"), a.body("reason"), nil)
	if err != nil {
		return "", nil, err
	}
	p, out := purchaseAfter(ctx, c, ref, out)
	who := customerName(ctx, c, p.CustomerRef)
	if d := day(p.CurrentPeriodEnd); d != "" {
		return fmt.Sprintf("The renewal has been cancelled. %s will retain access until the end of the current billing period (%s).", who, d), out, nil
	}
	return fmt.Sprintf("The renewal has been cancelled. %s keeps access until the end of the current billing period.", who), out, nil
}

func reactivateRenewal(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.post(ctx, path("purchases", ref, "reactivate"), map[string]any{}, nil)
	if err != nil {
		return "", nil, err
	}
	p, out := purchaseAfter(ctx, c, ref, out)
	who := customerName(ctx, c, p.CustomerRef)
	if d := day(p.NextBillingAt); d != "" {
		return fmt.Sprintf("The renewal has been reactivated. %s's purchase will renew on %s.", who, d), out, nil
	}
	return fmt.Sprintf("The renewal has been reactivated for %s.", lowerFirst(who)), out, nil
}

func activatePlan(ctx context.Context, c *call, a args) (string, any, error) {
	var res struct {
		Status      string       `json:"status"`
		Message     string       `json:"message"`
		CheckoutURL string       `json:"checkoutUrl"`
		Purchase    purchaseView `json:"purchase"`
	}
	out, err := c.post(ctx, path("activate-plan"), a.body("customerRef", "productRef", "planRef", "quantity"), &res)
	if err != nil {
		return "", nil, err
	}
	var text string
	switch res.Status {
	case "activated":
		text = "The plan has been activated."
	case "already_active":
		text = "The customer is already active on this plan; nothing changed."
	case "topup_required":
		text = "The customer needs to add credit before this plan can be activated."
	case "authentication_required":
		text = "The customer's bank asks them to confirm the first payment (3-D Secure): send them to the payment page; the plan starts once they confirm."
	case "payment_required":
		text = "Payment is required before this plan can be activated: the customer has no card on file."
	case "invalid":
		text = "This plan cannot be activated for this customer."
	default:
		text = "Activation answered: " + res.Status + "."
	}
	if res.Message != "" {
		text += " " + res.Message
	}
	if res.Purchase.Reference != "" {
		text += "\n\n" + res.Purchase.block()
	}
	if res.CheckoutURL != "" {
		text += "\n\nCheckout link to send the customer:\n" + res.CheckoutURL
	}
	return text, out, nil
}
