package sandbox_test

import (
	"context"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
)

// TestSetupOnSession: at checkout a plain card is set up at once; the 3-D Secure cards ask
// (3155 at setup, 3184 always). A refused authentication fails the setup for good; an approved
// one sets the card up. As at Stripe, 3184 still asks on every off-session payment after it,
// the first included; 3155 pays every later charge.
func TestSetupOnSession(t *testing.T) {
	ctx := context.Background()
	p := sandbox.New(testenv.Postgres(t).Pool)
	attach := func(card string) string {
		t.Helper()
		c, err := p.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: "cus_sb_1", PaymentMethod: card})
		if err != nil {
			t.Fatal(err)
		}
		return c.PaymentMethod
	}
	setup := func(key, pm string) payments.OnSessionResult {
		t.Helper()
		res, err := p.ConfirmOnSession(ctx, payments.OnSessionInput{IdempotencyKey: key, ProcessorCustomerID: "cus_sb_1", PaymentMethod: pm})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	charge := func(key, pm string) error {
		_, err := p.Charge(ctx, payments.ChargeInput{IdempotencyKey: key, ProcessorCustomerID: "cus_sb_1", PaymentMethod: pm,
			Amount: 4900, Currency: "USD"})
		return err
	}

	if res := setup("visa", attach("4242424242424242")); res.Status != payments.PaymentSucceeded {
		t.Errorf("a plain card's setup: %+v", res)
	}
	refused := attach("4000 0027 6000 3184")
	res := setup("refused", refused)
	if res.Status != payments.AuthenticationPending {
		t.Fatalf("3184's setup does not ask: %+v", res)
	}
	if again := setup("refused", refused); again.Ref != res.Ref {
		t.Errorf("the same key made another setup: %s, %s", res.Ref, again.Ref)
	}
	if out, err := p.AuthenticateOnSession(ctx, res.Ref, false); err != nil || out.Status != payments.PaymentFailed ||
		out.FailureCode != "payment_intent_authentication_failure" {
		t.Fatalf("refused: %+v %v", out, err)
	}
	if out, _ := p.AuthenticateOnSession(ctx, res.Ref, true); out.Status != payments.PaymentFailed {
		t.Errorf("a refused setup was approved afterwards: %+v", out)
	}
	if d, ok := payments.IsDecline(charge("refused/1", refused)); !ok || d.Code != payments.CodeAuthenticationRequired {
		t.Errorf("a refused setup covered a payment: %v", d)
	}

	always := attach("4000002760003184")
	res = setup("always", always)
	if out, err := p.AuthenticateOnSession(ctx, res.Ref, true); err != nil || out.Status != payments.PaymentSucceeded {
		t.Fatalf("approved: %+v %v", out, err)
	}
	for _, key := range []string{"always/1", "always/2"} {
		if d, ok := payments.IsDecline(charge(key, always)); !ok || d.Code != payments.CodeAuthenticationRequired {
			t.Errorf("3184's payment %s after its approved setup did not ask: %v", key, d)
		}
	}

	once := attach("4000 0025 0000 3155")
	res = setup("once", once)
	if res.Status != payments.AuthenticationPending {
		t.Fatalf("3155's setup does not ask: %+v", res)
	}
	if _, err := p.AuthenticateOnSession(ctx, res.Ref, true); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"once/1", "once/2"} {
		if err := charge(key, once); err != nil {
			t.Errorf("3155 after its setup, %s: %v", key, err)
		}
	}
	if _, err := p.OnSessionOutcome(ctx, "seti_sb_nope"); err == nil {
		t.Error("an unknown setup was found")
	}
	if _, err := p.AuthenticateOnSession(ctx, "ch_sb_nope", true); err == nil {
		t.Error("a charge id was authenticated as a setup")
	}
}
