package processors_test

import (
	"errors"
	"testing"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
)

func TestNewPicksStripeOnlyWithAKey(t *testing.T) {
	if got := processors.New(processors.Config{}).Name(); got != "sandbox" {
		t.Fatalf("no key: %s", got)
	}
	if got := processors.New(processors.Config{StripeSecretKey: "sk_test_123"}).Name(); got != "stripe" {
		t.Fatalf("with key: %s", got)
	}
}

// Sandbox keys get the sandbox even where the deployment has Stripe; live keys get Stripe, or
// ErrNoLive where the deployment has only the sandbox.
func TestSplitGivesSandboxKeysTheSandbox(t *testing.T) {
	withStripe := processors.Split(processors.New(processors.Config{StripeSecretKey: "sk_live_123"}), nil)
	if p, err := withStripe.For(true); err != nil || p.Name() != "sandbox" {
		t.Fatalf("sandbox mode beside Stripe: %v %v", p, err)
	}
	if p, err := withStripe.For(false); err != nil || p.Name() != "stripe" {
		t.Fatalf("live mode beside Stripe: %v %v", p, err)
	}
	for _, p := range []payments.Processor{nil, processors.New(processors.Config{})} {
		sandboxOnly := processors.Split(p, nil)
		if p, err := sandboxOnly.For(true); err != nil || p.Name() != "sandbox" {
			t.Fatalf("sandbox mode alone: %v %v", p, err)
		}
		if _, err := sandboxOnly.For(false); !errors.Is(err, processors.ErrNoLive) {
			t.Fatalf("live mode without Stripe: %v", err)
		}
	}
}
