package workflows_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A renewal whose processor keeps refusing our key (a fault, not the customer's decline) is
// retried in bounded rounds with the purchase left as it is, never past due; meanwhile cancel,
// refund and query answer at once, and the charge settles exactly once when the fault clears.
func TestFaultyChargeWaitsWithoutBlockingOrDunning(t *testing.T) {
	h := newHarness(t, recurring(1000))
	renewal := "pur_t/period-2/charge"
	h.acts.faults[renewal] = 30 // more than one round's attempts
	periodEnd := time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)
	var cancelErr, refundErr error
	var cancelledAt, refundedAt time.Time
	var stuck workflows.State
	h.at(periodEnd.Add(20*time.Minute).Sub(start), func() {
		v, _ := h.env.QueryWorkflow(workflows.QueryState)
		_ = v.Get(&stuck)
	})
	h.update(periodEnd.Add(30*time.Minute).Sub(start), workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{Reason: "r"}, &cancelErr)
	h.update(periodEnd.Add(40*time.Minute).Sub(start), workflows.UpdateRefund,
		workflows.RefundInput{RequestKey: "k1", TransactionRef: "txn_1", Amount: 100}, &refundErr)
	h.at(periodEnd.Add(30*time.Minute+time.Second).Sub(start), func() { cancelledAt = h.env.Now() })
	h.at(periodEnd.Add(40*time.Minute+time.Second).Sub(start), func() { refundedAt = h.env.Now() })
	s := h.run()

	if stuck.Charging == nil || stuck.Charging.Key != renewal || stuck.Charging.PaymentMethod != "pm_fake" {
		t.Fatalf("the query does not show the charge in flight: %+v", stuck.Charging)
	}
	if cancelErr != nil || refundErr != nil {
		t.Fatalf("cancel %v, refund %v", cancelErr, refundErr)
	}
	settled := h.acts.chargedAt[renewal]
	if !settled.After(cancelledAt) || !settled.After(refundedAt) || settled.Sub(periodEnd) < workflows.ChargeRoundTimeout {
		t.Fatalf("the charge settled at %v: cancel and refund (%v, %v) must not have waited for it", settled, cancelledAt, refundedAt)
	}
	wantKeys(t, h.acts.chargeKeys(), "period-1/charge", "period-2/charge")
	wantStatuses(t, h.acts, "pending", "active", "pending_cancellation", "cancelled")
	if len(h.acts.failed) != 0 || s.Status != domain.PurchaseCancelled || s.RefundedTotal != 100 || s.Charging != nil {
		t.Fatalf("state: %+v", s)
	}
	lookups := 0
	for i, in := range h.acts.attempts {
		if in.IdempotencyKey == renewal && in.PaymentMethod != "pm_fake" {
			t.Fatalf("attempt %d not bound to the chosen card: %+v", i, in)
		}
		if in.IdempotencyKey == renewal && in.LookUpFirst {
			lookups++
		}
	}
	if lookups == 0 {
		t.Fatal("rounds after the first must look the charge up first")
	}
}
