package sandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
)

// Like Stripe, the sandbox forgets a key after its window: the same key then charges again.
// FindCharge still finds the first charge, which is how a caller avoids the second.
func TestKeyForgottenAfterWindowChargesAgain(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	pm := attach(t, p, cus, "pm_card_visa").PaymentMethod
	in := charge(cus, pm, "pur_w/period-1/charge", 500)
	first, err := p.Charge(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.Charge(ctx, in); err != nil || again != first {
		t.Fatalf("inside the window: %+v %v", again, err)
	}
	p.KeyWindow = time.Nanosecond
	second, err := p.Charge(ctx, in)
	if err != nil || second.ProcessorRef == first.ProcessorRef {
		t.Fatalf("after the window the key must charge anew: %+v %v", second, err)
	}
	if got := ledger(t, p, "pur_w/"); len(got) != 2 {
		t.Fatalf("ledger: %d charges", len(got))
	}
	found, ok, err := p.FindCharge(ctx, payments.FindChargeInput{IdempotencyKey: in.IdempotencyKey, ProcessorCustomerID: cus})
	if err != nil || !ok || (found.ProcessorRef != first.ProcessorRef && found.ProcessorRef != second.ProcessorRef) {
		t.Fatalf("find: %+v %v %v", found, ok, err)
	}
	if _, ok, err := p.FindCharge(ctx, payments.FindChargeInput{IdempotencyKey: "pur_w/period-2/charge", ProcessorCustomerID: cus}); ok || err != nil {
		t.Fatalf("an unused key is not found: %v %v", ok, err)
	}
}

// The fault card charges, then answers 500, and replays the 500 while the key is remembered;
// FindCharge tells the truth: the charge succeeded.
func TestServerErrorAfterCharge(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	pm := attach(t, p, cus, "4242424242424242").PaymentMethod
	if err := p.SetCardBehaviour(ctx, pm, sandbox.BehaviourServerErrorAfterCharge); err != nil {
		t.Fatal(err)
	}
	in := charge(cus, pm, "pur_f/period-1/charge", 700)
	for range 2 {
		_, err := p.Charge(ctx, in)
		var pe *payments.ProcessorError
		if !errors.As(err, &pe) || pe.Status != 500 {
			t.Fatalf("want a 500, got %v", err)
		}
		if _, ok := payments.IsDecline(err); ok {
			t.Fatal("a 500 is not a decline")
		}
	}
	got := ledger(t, p, "pur_f/")
	if len(got) != 1 || got[0].Status != "succeeded" || got[0].Amount != 700 {
		t.Fatalf("ledger: %+v", got)
	}
	found, ok, err := p.FindCharge(ctx, payments.FindChargeInput{IdempotencyKey: in.IdempotencyKey, ProcessorCustomerID: cus})
	if err != nil || !ok || found.ProcessorRef != got[0].ID || found.Status != "succeeded" {
		t.Fatalf("find: %+v %v %v", found, ok, err)
	}
}
