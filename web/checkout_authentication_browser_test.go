package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
)

// typeCard fills the sandbox's card form with number and submits it.
func (b *browser) typeCard(number string) int64 {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("exp"), "1234"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"),
		chromedp.SendKeys(chromedp.ID("name"), "Jane Smith"))
	return b.submit(chromedp.SendKeys(chromedp.ID("name"), "\r"))
}

// Checkout with the 3-D Secure card that always asks (4000 0027 6000 3184): before any purchase
// starts, the sandbox's page in place of the bank's asks to confirm the card; failing it brings
// the checkout back saying so, with nothing started or charged. Approved, the purchase starts
// and its first payment, off session, asks again (as at Stripe, this card asks for every
// payment): the checkout shows that payment's step; failing it ends the purchase unpaid and the
// checkout asks for a card again; approving it makes the purchase active with one charge.
func TestBrowserCheckoutAuthentication(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	e := newEnv(t, realLifecycle(&tc))
	ctx := context.Background()
	cs := e.checkout(0)
	sb := e.pay.(*sandbox.Processor)

	b.open(e.srv.URL + "/checkout/" + cs.Ref)
	if status := b.typeCard("4000 0027 6000 3184"); status != 200 {
		t.Fatalf("after pay: %d\n%s", status, b.page())
	}
	if h := b.text("h1"); h != "Confirm your card" || !strings.Contains(b.page(), "Sandbox authentication") ||
		!strings.Contains(b.page(), "nothing is charged before") {
		t.Fatalf("the authentication step:\n%s", b.page())
	}
	if len(e.purchases()) != 0 {
		t.Fatalf("a purchase started before the authentication: %+v", e.purchases())
	}
	b.shots("checkout-sandbox-authentication")

	b.submit(chromedp.Click(chromedp.ID("fail")))
	if msg := b.text(".alert.bad"); !strings.Contains(msg, "The authentication with your bank failed") {
		t.Fatalf("after failing the authentication: %q\n%s", msg, b.page())
	}
	if charges, _ := sb.Charges(ctx, ""); len(e.purchases()) != 0 || len(charges) != 0 {
		t.Fatalf("a failed authentication started or charged: %+v %+v", e.purchases(), charges)
	}
	b.shots("checkout-authentication-failed")

	// the card confirmed, the first payment asks too: its step, then refused
	confirmCard := func() {
		t.Helper()
		if status := b.typeCard("4000 0027 6000 3184"); status != 200 || b.text("h1") != "Confirm your card" {
			t.Fatalf("the card's authentication step: %d\n%s", status, b.page())
		}
		b.submit(chromedp.Click(chromedp.ID("approve")))
		if h := b.text("h1"); h != "Confirm your payment" || b.text("[data-amount]") != "$49.00" ||
			!strings.Contains(b.page(), "Your subscription starts once it is confirmed") {
			t.Fatalf("the first payment's authentication step: %q\n%s", h, b.page())
		}
	}
	confirmCard()
	b.shots("checkout-first-payment-authentication")
	if list := e.purchases(); len(list) != 1 || list[0].Status != domain.PurchasePending || list[0].PaidTotal != 0 {
		t.Fatalf("while the first payment waits: %+v", list)
	}
	b.submit(chromedp.Click(chromedp.ID("fail")))
	if msg := b.text(".alert.bad"); !strings.Contains(msg, "The authentication with your bank failed") || b.text("h1") == "Payment successful" {
		t.Fatalf("after failing the payment's authentication: %q\n%s", msg, b.page())
	}
	if list := e.purchases(); len(list) != 1 || list[0].Status != domain.PurchaseExpired || list[0].PaidTotal != 0 {
		t.Fatalf("a refused first payment: %+v", list)
	}
	b.shots("checkout-first-payment-refused")

	confirmCard()
	b.submit(chromedp.Click(chromedp.ID("approve")))
	if h := b.text("h1"); h != "Payment successful" || !strings.Contains(b.page(), "Visa •••• 3184") {
		t.Fatalf("after approving: %q\n%s", h, b.page())
	}
	b.shots("checkout-authenticated-success")
	var active domain.Purchase
	for _, p := range e.purchases() {
		if p.Status == domain.PurchaseActive {
			active = p
		}
	}
	if active.Ref == "" || active.PaidTotal != 4900 || len(e.purchases()) != 2 {
		t.Fatalf("purchases after the authentication: %+v", e.purchases())
	}
	charges, err := sb.Charges(ctx, active.Ref+"/")
	if err != nil || len(charges) != 1 || charges[0].Status != "succeeded" || charges[0].Amount != 4900 {
		t.Fatalf("the processor's ledger (one charge): %v %+v", err, charges)
	}
}

// A dispute over the first payment, opened and won in the sandbox, reaches the purchase through
// the signed webhook handler: the portal shows it suspended (no access, the default policy),
// then active again once the dispute is won.
func TestBrowserDisputeSuspendsThenRestores(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	var sc *starter.Client
	hooks := &sandbox.Webhooks{Secret: domain.NewSecretRef("whsec_sb")}
	e := newEnv(t, realLifecycleWith(&tc, &sc), withSandboxWebhooks(hooks))
	e.wireWebhooks(hooks, tc, sc)
	ctx := context.Background()
	ref := e.buy(e.client())
	sb := e.pay.(*sandbox.Processor)
	charges, err := sb.Charges(ctx, ref+"/")
	if err != nil || len(charges) != 1 {
		t.Fatalf("ledger: %v %+v", err, charges)
	}
	badge := func() string {
		ps := e.portal(0)
		b.open(e.srv.URL + "/portal/" + ps.Ref)
		return b.text(`#` + ref + ` [data-status]`)
	}
	waitBadge := func(want string) {
		t.Helper()
		eventuallyWeb(t, "the portal shows "+want, func() bool { return badge() == want })
	}
	_, ev, err := sb.OpenDispute(ctx, charges[0].ID)
	if err != nil || hooks.Send(ctx, ev) != nil {
		t.Fatalf("open dispute: %v", err)
	}
	waitBadge("Suspended")
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); !p.Disputed || p.HasAccess() || p.DisplayStatus() != domain.PurchaseSuspended {
		t.Errorf("disputed purchase: %+v", p)
	}
	b.shots("portal-disputed")
	_, ev, err = sb.CloseDispute(ctx, charges[0].ID, true)
	if err != nil || hooks.Send(ctx, ev) != nil {
		t.Fatalf("close dispute: %v", err)
	}
	waitBadge("Active")
	b.shots("portal-dispute-won")
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.Disputed || p.Status != domain.PurchaseActive || p.PaidTotal != 4900 {
		t.Errorf("after the dispute was won: %+v", p)
	}
}

// eventuallyWeb polls cond for up to 30 s: webhook events are processed after they are answered.
func eventuallyWeb(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
