package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
)

// A customer switches plan in the portal: the preview is shown before the confirmation and says
// what will be charged; the charge is exactly that, on the same purchase. A downgrade is
// scheduled for the period end, shown on the purchase, and undone with "Keep".
func TestBrowserPortalChangesPlan(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	var sc *starter.Client
	e := newEnv(t, realLifecycleWith(&tc, &sc))
	ctx := context.Background()
	if _, err := testenv.AttachCard(ctx, e.st, e.pay, e.merchant, e.customer.Ref, "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	pro, err := sc.ActivatePlan(ctx, e.merchant, e.customer.Ref, e.product.Ref, e.plan.Ref, 0)
	if err != nil || pro.Status != starter.Activated {
		t.Fatalf("activate Pro: %+v %v", pro, err)
	}
	ref := pro.Purchase.Ref
	newPlan := func(name string, price int64) domain.Plan {
		p, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: name,
			Type: domain.PlanRecurring, Price: price, Currency: "USD", BillingCycle: domain.CycleMonthly})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	team, starterPlan := newPlan("Team", 9900), newPlan("Starter", 1900)
	ps := e.portal(0)

	// Upgrade: pick Team, read the preview, confirm.
	b.open(e.srv.URL + "/portal/" + ps.Ref)
	b.submit(chromedp.Click(chromedp.CSS(`#` + ref + ` a[href*="/change?purchase="]`)))
	if h := b.text("h1"); h != "Change your Pro plan" {
		t.Fatalf("plan choice: %q\n%s", h, b.page())
	}
	b.do(chromedp.Click(chromedp.ID("plan-" + team.Ref)))
	b.submit(chromedp.Click(chromedp.ID("review-change")))
	if h := b.text("h1"); h != "Switch from Pro to Team?" {
		t.Fatalf("preview: %q\n%s", h, b.page())
	}
	summary := b.text("#change-summary")
	if !strings.HasPrefix(summary, "You'll be charged $") || !strings.Contains(summary, "move to Team at once") {
		t.Fatalf("the confirmation says %q", summary)
	}
	for _, want := range []string{"Unused time on Pro", "Remaining time on Team", "Your next renewal on", "$99.00"} {
		if !strings.Contains(b.page(), want) {
			t.Errorf("preview lacks %q:\n%s", want, b.page())
		}
	}
	b.shots("portal-change-preview")
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.PlanRef != e.plan.Ref {
		t.Fatalf("the preview changed the plan: %s", p.PlanRef)
	}
	b.submit(chromedp.Click(chromedp.ID("confirm-change")))
	if !strings.Contains(b.page(), "You're now on the Team plan.") {
		t.Fatalf("after the upgrade:\n%s", b.page())
	}
	p, err := e.st.GetPurchase(ctx, e.merchant, ref)
	if err != nil || p.PlanRef != team.Ref || p.Status != domain.PurchaseActive || len(e.purchases()) != 1 {
		t.Fatalf("purchase after the upgrade: %+v %v (%d purchases)", p, err, len(e.purchases()))
	}
	txns, _, err := e.st.ListTransactions(ctx, e.merchant, store.TransactionFilter{PurchaseRef: ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(txns) != 2 {
		t.Fatalf("payments of %s: %+v %v", ref, txns, err)
	}
	var change domain.Transaction
	for _, tx := range txns {
		if tx.Amount != 4900 {
			change = tx
		}
	}
	if shown := strings.Fields(summary)[3]; shown != formatUSD(change.Amount) {
		t.Fatalf("the confirmation said %q, the change charged %d", summary, change.Amount)
	}

	// Downgrade: scheduled for the period end, nothing charged, shown and undone.
	b.submit(chromedp.Click(chromedp.CSS(`#` + ref + ` a[href*="/change?purchase="]`)))
	b.do(chromedp.Click(chromedp.ID("plan-" + starterPlan.Ref)))
	b.submit(chromedp.Click(chromedp.ID("review-change")))
	if s := b.text("#change-summary"); !strings.HasPrefix(s, "You'll move to Starter on ") || !strings.Contains(s, "Nothing is charged now") {
		t.Fatalf("downgrade summary %q", s)
	}
	b.submit(chromedp.Click(chromedp.ID("confirm-change")))
	if s := b.text(`#` + ref + ` [data-scheduled]`); !strings.HasPrefix(s, "Changes to Starter ($19.00 per month) on ") {
		t.Fatalf("scheduled change on the portal: %q\n%s", s, b.page())
	}
	b.shots("portal-change-scheduled")
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.ScheduledChange == nil || p.ScheduledChange.PlanRef != starterPlan.Ref {
		t.Fatalf("scheduled change in Postgres: %+v", p.ScheduledChange)
	}
	b.submit(chromedp.Click(chromedp.ID("keep-plan")))
	if !strings.Contains(b.page(), "you stay on Team") || strings.Contains(b.page(), "Changes to Starter") {
		t.Fatalf("after keep:\n%s", b.page())
	}
	if txns, _, _ := e.st.ListTransactions(ctx, e.merchant, store.TransactionFilter{PurchaseRef: ref}, store.Page{Page: 1, Limit: 10}); len(txns) != 2 {
		t.Fatalf("the downgrade charged: %+v", txns)
	}
}

// formatUSD is "$12.34" for 1234 (amounts under $1,000).
func formatUSD(minor int64) string { return fmt.Sprintf("$%d.%02d", minor/100, minor%100) }
