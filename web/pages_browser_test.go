package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
)

// A customer pays in the browser with 4242…, sees the success page, then cancels and
// reactivates the renewal in the portal; Postgres and the workflow agree at every step.
func TestBrowserCheckoutThenPortal(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	e := newEnv(t, realLifecycle(&tc))
	ctx := context.Background()
	cs := e.checkout(0)

	if status := b.open(e.srv.URL + "/checkout/" + cs.Ref); status != 200 {
		t.Fatalf("checkout page: %d", status)
	}
	b.shots("checkout")
	// Keyboard: the fields are labelled and Tab walks them in reading order.
	b.do(chromedp.Focus(chromedp.ID("number")))
	order := []string{}
	for range 3 {
		b.do(chromedp.KeyEvent("\t"))
		order = append(order, b.eval(`document.activeElement.id`))
	}
	if strings.Join(order, ",") != "exp,cvc,name" {
		t.Errorf("tab order after the card number: %v", order)
	}
	for _, id := range []string{"number", "exp", "cvc", "name"} {
		if b.eval(`document.querySelector("label[for=`+id+`]") ? "yes" : "no"`) != "yes" {
			t.Errorf("input %s has no label", id)
		}
	}
	b.do(chromedp.SendKeys(chromedp.ID("number"), "4242424242424242"),
		chromedp.SendKeys(chromedp.ID("exp"), "1234"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"),
		chromedp.SendKeys(chromedp.ID("name"), "Jane Smith"))
	if got := b.eval(`document.getElementById("number").value`); got != "4242 4242 4242 4242" {
		t.Errorf("card number as typed: %q", got)
	}
	// Enter in the last field submits: Pay is keyboard-reachable without a mouse.
	if status := b.submit(chromedp.SendKeys(chromedp.ID("name"), "\r")); status != 200 {
		t.Fatalf("after pay: %d\n%s", status, b.page())
	}
	if h := b.text("h1"); h != "Payment successful" {
		t.Fatalf("after pay the page says %q:\n%s", h, b.page())
	}
	text := b.page()
	for _, want := range []string{"$49.00", "Visa •••• 4242", "Return to Acme AI", "Next payment"} {
		if !strings.Contains(text, want) {
			t.Errorf("success page lacks %q", want)
		}
	}
	b.shots("success")

	got, err := e.st.GetCheckoutSession(ctx, cs.Ref)
	if err != nil || got.Status != "complete" {
		t.Fatalf("session: %+v %v", got, err)
	}
	p, err := e.st.GetPurchase(ctx, e.merchant, got.PurchaseRef)
	if err != nil || p.Status != domain.PurchaseActive || p.PaidTotal != 4900 {
		t.Fatalf("purchase in Postgres: %+v %v", p, err)
	}
	if !workflowRunning(t, tc, p.Ref) {
		t.Error("the purchase workflow is not running")
	}
	// A reload of the checkout lands on the same success page; nothing new starts.
	b.open(e.srv.URL + "/checkout/" + cs.Ref)
	if h := b.text("h1"); h != "Payment successful" || len(e.purchases()) != 1 {
		t.Errorf("reload: %q, %d purchases", h, len(e.purchases()))
	}

	ps := e.portal(0)
	b.open(e.srv.URL + "/portal/" + ps.Ref)
	text = b.page()
	for _, want := range []string{"Support Bot", "Pro", "$49.00 per month", "Active", "Renews on", "Visa •••• 4242", "Paid"} {
		if !strings.Contains(text, want) {
			t.Errorf("portal lacks %q", want)
		}
	}
	b.shots("portal")

	b.submit(chromedp.Click(chromedp.CSS(`a[href*="/cancel?purchase="]`)))
	if h := b.text("h1"); h != "Cancel your Pro renewal?" {
		t.Fatalf("confirmation step: %q", h)
	}
	b.shots("portal-cancel-confirm")
	b.do(chromedp.SetValue(chromedp.ID("reason"), "Too expensive"))
	b.submit(chromedp.Click(chromedp.ID("confirm-cancel")))
	if badge := b.text(`#` + p.Ref + ` [data-status]`); badge != "Pending cancellation" {
		t.Fatalf("after cancel the badge reads %q:\n%s", badge, b.page())
	}
	if !strings.Contains(b.page(), "Your renewal is cancelled") {
		t.Error("no confirmation after cancel")
	}
	b.shots("portal-pending-cancellation")
	p, _ = e.st.GetPurchase(ctx, e.merchant, p.Ref)
	if p.DisplayStatus() != domain.PurchasePendingCancellation || p.CancelReason != "Too expensive" {
		t.Errorf("purchase after cancel: %s %q", p.DisplayStatus(), p.CancelReason)
	}

	b.submit(chromedp.Click(chromedp.CSS(`#` + p.Ref + ` form[action$="/reactivate"] button`)))
	if badge := b.text(`#` + p.Ref + ` [data-status]`); badge != "Active" {
		t.Fatalf("after reactivate the badge reads %q", badge)
	}
	if !strings.Contains(b.page(), "Welcome back!") {
		t.Error("no confirmation after reactivate")
	}
	p, _ = e.st.GetPurchase(ctx, e.merchant, p.Ref)
	if p.DisplayStatus() != domain.PurchaseActive || !workflowRunning(t, tc, p.Ref) {
		t.Errorf("purchase after reactivate: %s", p.DisplayStatus())
	}
}

// The declined test card shows the decline in words and leaves no purchase; the page works
// with JavaScript off.
func TestBrowserDeclinedCardWithoutJavaScript(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	e := newEnv(t, realLifecycle(&tc))
	b.noScript()
	cs := e.checkout(0)
	b.open(e.srv.URL + "/checkout/" + cs.Ref)
	b.do(chromedp.SendKeys(chromedp.ID("number"), "4000 0000 0000 0002"),
		chromedp.SendKeys(chromedp.ID("exp"), "12 / 34"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"),
		chromedp.SendKeys(chromedp.ID("name"), "Jane Smith"))
	if status := b.submit(chromedp.Click(chromedp.ID("pay"))); status != 402 {
		t.Errorf("declined pay answered %d", status)
	}
	if msg := b.text("#form-error"); !strings.Contains(msg, "Your card was declined.") || !strings.Contains(msg, "Try again") {
		t.Fatalf("decline message: %q", msg)
	}
	b.shots("checkout-declined")
	if n := len(e.purchases()); n != 0 {
		t.Errorf("%d purchases after a declined card", n)
	}
	if got, _ := e.st.GetCheckoutSession(context.Background(), cs.Ref); got.Status != "open" {
		t.Errorf("session after decline: %s", got.Status)
	}
}

// An expired checkout link and an expired portal link each say so in words.
func TestBrowserExpiredSessions(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, nil)
	cs := e.checkout(time.Second)
	ps := e.portal(time.Second)
	time.Sleep(1100 * time.Millisecond)
	if status := b.open(e.srv.URL + "/checkout/" + cs.Ref); status != 410 {
		t.Errorf("expired checkout: %d", status)
	}
	if h := b.text("h1"); h != "This checkout link has expired" {
		t.Errorf("expired checkout says %q", h)
	}
	b.shots("checkout-expired")
	if status := b.open(e.srv.URL + "/portal/" + ps.Ref); status != 410 {
		t.Errorf("expired portal: %d", status)
	}
	if h := b.text("h1"); h != "This billing link has expired" {
		t.Errorf("expired portal says %q", h)
	}
	if status := b.open(e.srv.URL + "/checkout/cs_nope"); status != 404 {
		t.Errorf("unknown checkout: %d", status)
	}
}

// A renewal fails on a card that attaches but cannot be charged: the portal shows the purchase
// past due, and a new card saved in the portal retries the payment at once.
func TestBrowserPastDueCardUpdateRetries(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	var sc *starter.Client
	e := newEnv(t, realLifecycleWith(&tc, &sc))
	ctx := context.Background()
	c := e.client()
	ref := e.buy(c)
	ps := e.portal(0)

	// Swap in the …0341 card through the portal's card page (keyboard only), then let the
	// sandbox clock run past the period end: the renewal charge fails.
	b.open(e.srv.URL + "/portal/" + ps.Ref + "/card")
	b.do(chromedp.SendKeys(chromedp.ID("number"), "4000000000000341"), chromedp.SendKeys(chromedp.ID("exp"), "1234"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"), chromedp.SendKeys(chromedp.ID("name"), "Jane Smith"))
	b.submit(chromedp.SendKeys(chromedp.ID("name"), "\r"))
	if !strings.Contains(b.page(), "Your card was updated.") {
		t.Fatalf("after card update:\n%s", b.page())
	}
	p, _ := e.st.GetPurchase(ctx, e.merchant, ref)
	if _, err := sc.AdvanceClock(ctx, e.merchant, ref, p.CurrentPeriodEnd.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.open(e.srv.URL + "/portal/" + ps.Ref)
	if badge := b.text(`#` + ref + ` [data-status]`); badge != "Past due" {
		t.Fatalf("after the failed renewal the badge reads %q:\n%s", badge, b.page())
	}
	if !strings.Contains(b.page(), "Failed") {
		t.Error("the failed renewal is not in the payment history")
	}
	b.shots("portal-past-due")

	// Retry with the same card: the workflow refuses, in words.
	b.submit(chromedp.Click(chromedp.CSS(`#` + ref + ` form[action$="/retry"] button`)))
	if msg := b.text(".alert.bad"); !strings.Contains(msg, "Your card was declined.") {
		t.Errorf("retry with the failing card: %q", msg)
	}
	// A good card saved in the portal pays the overdue period.
	b.open(e.srv.URL + "/portal/" + ps.Ref + "/card")
	if !strings.Contains(b.page(), "Saving a new card retries it right away") {
		t.Error("the card page does not say it retries the overdue payment")
	}
	b.shots("portal-update-card")
	b.do(chromedp.SendKeys(chromedp.ID("number"), "4242424242424242"), chromedp.SendKeys(chromedp.ID("exp"), "1234"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"), chromedp.SendKeys(chromedp.ID("name"), "Jane Smith"))
	b.submit(chromedp.Click(chromedp.ID("pay")))
	if !strings.Contains(b.page(), "your overdue payment went through") {
		t.Fatalf("after the new card:\n%s", b.page())
	}
	if badge := b.text(`#` + ref + ` [data-status]`); badge != "Active" {
		t.Errorf("after the new card the badge reads %q", badge)
	}
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.Status != domain.PurchaseActive || p.PaidTotal != 9800 {
		t.Errorf("purchase after the retry: %s paid %d", p.Status, p.PaidTotal)
	}
}
