package workflows_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A first payment the bank wants authenticated keeps the purchase pending, without access, for
// FirstAuthenticationWindow; nobody completing it, the payment is looked at once more at the
// window's end and the purchase ends expired (first_payment_failed: authentication_required),
// nothing charged.
func TestFirstPaymentNotAuthenticatedInTimeExpires(t *testing.T) {
	h := newHarness(t, recurring(1000))
	h.acts.asking = true
	var looked []string
	h.env.RegisterActivityWithOptions(func(_ context.Context, in workflows.LookupPaymentInput) (payments.PaymentFacts, error) {
		looked = append(looked, in.PaymentRef)
		return payments.PaymentFacts{PaymentRef: in.PaymentRef, Status: payments.PaymentFailed,
			FailureCode: payments.CodeAuthenticationRequired, Amount: 1000}, nil
	}, activity.RegisterOptions{Name: "LookupPayment"})
	var waiting workflows.State
	h.at(workflows.FirstAuthenticationWindow-time.Minute, func() {
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		if err == nil {
			err = v.Get(&waiting)
		}
		if err != nil {
			t.Errorf("query while waiting: %v", err)
		}
	})
	final := h.run()
	if waiting.Status != domain.PurchasePending || waiting.HasAccess() || waiting.Authenticating == nil ||
		waiting.Authenticating.ProcessorRef != "pi_auth_1" || !waiting.Authenticating.Until.Equal(start.Add(workflows.FirstAuthenticationWindow)) {
		t.Fatalf("a minute before the window ends: %s %+v", waiting.Status, waiting.Authenticating)
	}
	if final.Status != domain.PurchaseExpired || final.EndReason != "first_payment_failed: "+payments.CodeAuthenticationRequired ||
		final.PaidTotal != 0 || final.Authenticating != nil || len(h.acts.charges) != 0 {
		t.Fatalf("after the window: %s %q paid %d %+v charges %d", final.Status, final.EndReason, final.PaidTotal,
			final.Authenticating, len(h.acts.charges))
	}
	if len(looked) != 1 || looked[0] != "pi_auth_1" {
		t.Fatalf("looked up %v, want the payment once at the window's end", looked)
	}
	if p := h.acts.lastProjection(); p.Status != domain.PurchaseExpired || p.EndedAt == nil ||
		!p.EndedAt.Equal(start.Add(workflows.FirstAuthenticationWindow)) {
		t.Fatalf("projection: %s ended %v", p.Status, p.EndedAt)
	}
	wantStatuses(t, h.acts, "pending", "expired")
}
