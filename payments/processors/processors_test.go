package processors_test

import (
	"testing"

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
