package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/web"
)

// withSandboxWebhooks makes the pages report the sandbox's outcomes through the API's webhook
// handler (signed with the sandbox's secret), as a deployment does; call wire once the env is up.
func withSandboxWebhooks(hooks *sandbox.Webhooks) envOption {
	return func(c *web.Config) { c.SandboxWebhooks = hooks }
}

// wireWebhooks points hooks at an API server over the env's store and workflows.
func (e *env) wireWebhooks(hooks *sandbox.Webhooks, tc client.Client, sc *starter.Client) {
	hooks.Handler = api.New(api.Config{Store: e.st, Temporal: tc, Starter: sc, Payments: e.pay,
		SandboxWebhookSecret: hooks.Secret})
}

// A renewal the bank wants authenticated (the 3-D Secure card 4000 0027 6000 3184's behaviour):
// the portal shows the purchase past due and links to /pay/<token>; the sandbox's
// authentication page refuses once, then approves; the outcome travels as a signed webhook
// event, and the purchase is active again, paid by that one payment.
func TestBrowserRenewalAuthentication(t *testing.T) {
	b := newBrowser(t)
	var tc client.Client
	var sc *starter.Client
	hooks := &sandbox.Webhooks{Secret: domain.NewSecretRef("whsec_sb")}
	e := newEnv(t, realLifecycleWith(&tc, &sc), withSandboxWebhooks(hooks))
	e.wireWebhooks(hooks, tc, sc)
	ctx := context.Background()
	ref := e.buy(e.client())
	cus, err := e.st.GetCustomer(ctx, e.merchant, e.customer.Ref)
	if err != nil || cus.Card == nil {
		t.Fatalf("customer: %v %+v", err, cus)
	}
	sb := e.pay.(*sandbox.Processor)
	if err := sb.SetCardBehaviour(ctx, cus.Card.PaymentMethod, sandbox.BehaviourAuthenticationRequired); err != nil {
		t.Fatal(err)
	}
	p, _ := e.st.GetPurchase(ctx, e.merchant, ref)
	if _, err := sc.AdvanceClock(ctx, e.merchant, ref, p.CurrentPeriodEnd.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	ps := e.portal(0)
	b.open(e.srv.URL + "/portal/" + ps.Ref)
	if badge := b.text(`#` + ref + ` [data-status]`); badge != "Past due" {
		t.Fatalf("after the renewal asked for authentication the badge reads %q:\n%s", badge, b.page())
	}
	if !strings.Contains(b.page(), "Your bank asks you to confirm your last payment") {
		t.Errorf("the portal does not say the bank asks:\n%s", b.page())
	}
	b.shots("portal-authentication-required")
	b.submit(chromedp.Click(chromedp.CSS(`#` + ref + ` a[data-pay]`)))
	if !strings.Contains(b.eval(`location.pathname`), "/pay/pay_") || b.text(`[data-amount]`) != "$49.00" ||
		!strings.Contains(b.page(), "Sandbox authentication") {
		t.Fatalf("the pay page:\n%s", b.page())
	}
	b.shots("pay-sandbox-authentication")

	b.submit(chromedp.Click(chromedp.ID("fail")))
	if msg := b.text(".alert.bad"); !strings.Contains(msg, "The authentication failed") {
		t.Fatalf("after failing the authentication: %q\n%s", msg, b.page())
	}
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.Status != domain.PurchasePastDue {
		t.Errorf("after a failed authentication the purchase is %s", p.Status)
	}
	b.submit(chromedp.Click(chromedp.ID("approve")))
	if h := b.text("h1"); h != "Payment complete" || !strings.Contains(b.page(), "subscription is active") {
		t.Fatalf("after approving: %q\n%s", h, b.page())
	}
	b.shots("pay-complete")
	b.open(e.srv.URL + "/portal/" + ps.Ref)
	if badge := b.text(`#` + ref + ` [data-status]`); badge != "Active" {
		t.Errorf("after the authentication the badge reads %q", badge)
	}
	if p, _ := e.st.GetPurchase(ctx, e.merchant, ref); p.Status != domain.PurchaseActive || p.PaidTotal != 9800 || p.Period != 2 {
		t.Errorf("purchase: %s paid %d period %d", p.Status, p.PaidTotal, p.Period)
	}
	charges, err := sb.Charges(ctx, ref+"/")
	if err != nil || len(charges) != 2 || charges[0].Status != "succeeded" || charges[1].Status != "succeeded" {
		t.Fatalf("the processor's ledger (one charge per period): %v %+v", err, charges)
	}
	// the outcome came through the webhook handler, as the sandbox's signed events
	var n int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM processor_events WHERE processor = 'sandbox'
		AND object_ref = $1 AND outcome LIKE 'signalled purchase %'`, charges[1].ID).Scan(&n); err != nil || n != 2 {
		t.Errorf("sandbox webhook events signalled: %d, %v", n, err)
	}
}
