package mcp

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Plan changes: the assistant previews a change (what it charges or credits now and at the next
// renewal), then makes it with the preview's prorationDate so both agree to the minor unit.

var changeParams = []param{
	purchaseRef(true),
	planRef(false, "The plan to change to (pln_…), another plan of the purchase's product; omit it to change only the seats."),
	quantityParam("The seats after the change, on a plan priced per seat: more seats are charged now, prorated like an " +
		"upgrade; fewer take effect at the period end by default. Omit it to keep the purchase's seats."),
	{name: "prorationBehavior", typ: tString, enum: []string{"create_prorations", "none", "always_invoice"},
		desc: "create_prorations (default): credit the unused time of the current plan, charge the rest of the period " +
			"at the new price, keep a net credit for the next charges; none: no proration; always_invoice: settle " +
			"everything now, a net credit is refunded at once."},
	{name: "effective", typ: tString, enum: []string{"now", "period_end"},
		desc: "now or period_end; by default an upgrade takes effect now and a downgrade at the period end."},
}

func planChangeTools() []tool {
	return []tool{
		{name: "preview_plan_change", title: "Preview a plan change",
			desc: "Show, without changing anything, what moving a purchase to another plan of its product would charge or " +
				"credit now (line by line) and what the next renewal will ask for. Call it before change_plan and pass " +
				"its prorationDate to change_plan so the change settles exactly these lines.",
			params: changeParams, readOnly: true, run: previewPlanChange},
		{name: "change_plan", title: "Change a purchase's plan",
			desc: "Move a purchase to another plan of the same product, inside the same purchase: an upgrade takes effect " +
				"now, prorated by the second and charged to the card on file at once (a decline changes nothing); a " +
				"downgrade is scheduled for the period end (cancel_scheduled_change undoes it). Preview first with " +
				"preview_plan_change.",
			params: append(append([]param{}, changeParams...), param{name: "prorationDate", typ: tString,
				desc: "The preview's prorationDate (RFC 3339): the change is priced at that instant, as the preview was."}),
			run: changePlan},
		{name: "cancel_scheduled_change", title: "Cancel a scheduled plan change",
			desc:   "Drop the plan change a purchase has scheduled for its period end; the purchase renews on its current plan.",
			params: []param{purchaseRef(true)}, idempotent: true, run: cancelScheduledChange},
	}
}

type changeLine struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

type changePreview struct {
	FromPlanRef   string       `json:"fromPlanRef"`
	ToPlanRef     string       `json:"toPlanRef"`
	FromQuantity  int64        `json:"fromQuantity"`
	ToQuantity    int64        `json:"toQuantity"`
	Direction     string       `json:"direction"`
	Effective     string       `json:"effective"`
	EffectiveAt   *time.Time   `json:"effectiveAt"`
	ProrationDate string       `json:"prorationDate"`
	Currency      string       `json:"currency"`
	Lines         []changeLine `json:"lines"`
	Total         int64        `json:"total"`
	Credit        int64        `json:"credit"`
	NextRenewal   struct {
		At    *time.Time   `json:"at"`
		Lines []changeLine `json:"lines"`
		Total int64        `json:"total"`
	} `json:"nextRenewal"`
}

func previewPlanChange(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	var q changePreview
	out, err := c.post(ctx, path("purchases", ref, "change-plan", "preview"), a.body("planRef", "quantity", "prorationBehavior", "effective"), &q)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Changing from %s to %s (%s) ", seatsOf(q.FromPlanRef, q.FromQuantity), seatsOf(q.ToPlanRef, q.ToQuantity),
		strings.ReplaceAll(q.Direction, "_", " "))
	if q.Effective == "period_end" {
		fmt.Fprintf(&b, "would take effect at the period end (%s); nothing is charged now.", day(q.EffectiveAt))
	} else {
		b.WriteString("would take effect now and " + settleWords(q.Total, q.Currency) + ".")
		writeLines(&b, q.Lines, q.Currency)
	}
	if d := day(q.NextRenewal.At); d != "" {
		fmt.Fprintf(&b, "\nNext renewal on %s: %s", d, money(q.NextRenewal.Total, q.Currency))
		if q.Credit > 0 {
			fmt.Fprintf(&b, " (credit kept: %s)", money(q.Credit, q.Currency))
		}
		b.WriteString(", plus any metered usage.")
	}
	if q.ProrationDate != "" {
		fmt.Fprintf(&b, "\nTo make exactly this change, call change_plan with prorationDate %s.", q.ProrationDate)
	}
	return b.String(), out, nil
}

// quantityParam is the seats of a purchase on a plan priced per seat.
func quantityParam(desc string) param {
	return param{name: "quantity", typ: tInteger, desc: desc}
}

// seatsOf names a plan with its seats when there is more than one ("pln_… × 5 seats").
func seatsOf(planRef string, quantity int64) string {
	if quantity <= 1 {
		return planRef
	}
	return fmt.Sprintf("%s × %d seats", planRef, quantity)
}

func settleWords(total int64, currency string) string {
	switch {
	case total > 0:
		return "charge " + money(total, currency) + " now"
	case total < 0:
		return "credit " + money(-total, currency)
	}
	return "charge nothing now"
}

func writeLines(b *strings.Builder, lines []changeLine, currency string) {
	for _, l := range lines {
		fmt.Fprintf(b, "\n- %s: %s", l.Description, money(l.Amount, currency))
	}
}

func changePlan(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	var res struct {
		Purchase purchaseView `json:"purchase"`
		Change   struct {
			FromPlanRef  string       `json:"fromPlanRef"`
			ToPlanRef    string       `json:"toPlanRef"`
			FromQuantity int64        `json:"fromQuantity"`
			ToQuantity   int64        `json:"toQuantity"`
			Effective    string       `json:"effective"`
			EffectiveAt  *time.Time   `json:"effectiveAt"`
			Lines        []changeLine `json:"lines"`
			Total        int64        `json:"total"`
			Currency     string       `json:"currency"`
			Credit       int64        `json:"credit"`
		} `json:"change"`
	}
	out, err := c.post(ctx, path("purchases", ref, "change-plan"),
		a.body("planRef", "quantity", "prorationBehavior", "effective", "prorationDate"), &res)
	if err != nil {
		return "", nil, err
	}
	ch := res.Change
	from, to := seatsOf(ch.FromPlanRef, ch.FromQuantity), seatsOf(ch.ToPlanRef, ch.ToQuantity)
	var b strings.Builder
	if ch.Effective == "period_end" {
		fmt.Fprintf(&b, "The change from %s to %s is scheduled for the period end (%s); nothing was charged. "+
			"It can be cancelled until then with cancel_scheduled_change.", from, to, day(ch.EffectiveAt))
	} else {
		what := "plan"
		if ch.FromPlanRef == ch.ToPlanRef {
			what = "number of seats"
		}
		fmt.Fprintf(&b, "The %s has been changed from %s to %s", what, from, to)
		switch {
		case ch.Total > 0:
			fmt.Fprintf(&b, "; %s was charged.", money(ch.Total, ch.Currency))
		case ch.Total < 0:
			fmt.Fprintf(&b, "; %s was credited.", money(-ch.Total, ch.Currency))
		default:
			b.WriteString("; nothing was charged.")
		}
		writeLines(&b, ch.Lines, ch.Currency)
		if ch.Credit > 0 {
			fmt.Fprintf(&b, "\nCredit kept for the next charges: %s.", money(ch.Credit, ch.Currency))
		}
	}
	if res.Purchase.Reference != "" {
		b.WriteString("\n\n" + res.Purchase.block())
	}
	return b.String(), out, nil
}

func cancelScheduledChange(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("purchaseRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.post(ctx, path("purchases", ref, "cancel-scheduled-change"), map[string]any{}, nil)
	if err != nil {
		return "", nil, err
	}
	p, out := purchaseAfter(ctx, c, ref, out)
	return "The scheduled plan change has been cancelled; the purchase stays on its current plan.\n\n" + p.block(), out, nil
}
