package starter_test

import (
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestPaymentChangedBooksWhatTheProcessorKnows: processor events about a sandbox purchase's
// payment make the purchase refetch it from the sandbox's ledger; a refund made there outside
// Tollgate is booked once as a txn_ refund, the refund Tollgate made itself is not booked
// again, and a second event about the same payment changes nothing.
func TestPaymentChangedBooksWhatTheProcessorKnows(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref, pay := st.PurchaseRef, st.Payments[0]
	if _, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "k1", Amount: 500}); err != nil {
		t.Fatal(err)
	}
	// a refund made at the processor, not through Tollgate: no key of ours
	if _, err := s.st.Pool.Exec(s.ctx, `INSERT INTO sandbox_refunds (id, idempotency_key, charge_id, amount, currency, status)
		VALUES ('re_sb_elsewhere1', '', $1, 700, 'USD', 'succeeded')`, pay.ProcessorRef); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt_sb_refunded1", "evt_sb_refunded2", "evt_sb_refunded1"} {
		if _, _, err := s.st.RecordProcessorEvent(s.ctx, store.ProcessorEvent{ID: id, Processor: "sandbox",
			Type: "charge.refunded", ObjectRef: pay.ProcessorRef, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.c.ProcessEvent(s.ctx, workflows.ProcessorEventInput{EventID: id, Processor: "sandbox",
			Type: "charge.refunded", PaymentRef: pay.ProcessorRef}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "both events processed", func() bool {
		one, _, _ := s.st.ProcessorEventOutcome(s.ctx, "evt_sb_refunded1")
		two, _, _ := s.st.ProcessorEventOutcome(s.ctx, "evt_sb_refunded2")
		return one && two
	})
	eventually(t, "the outside refund booked", func() bool { return s.projection(ref).RefundedTotal == 1200 })
	final, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || final.RefundedTotal != 1200 || len(final.Refunds) != 2 || final.Status != domain.PurchaseActive {
		t.Fatalf("state: %v %+v", err, final)
	}
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil || len(txns) != 3 {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
	if r := txns[2]; r.Kind != domain.TxnRefund || r.Amount != 700 || r.ProcessorRef != "re_sb_elsewhere1" ||
		r.Reason != "refunded_outside_tollgate" || r.SourceRef != pay.TxnRef {
		t.Fatalf("outside refund: %+v", r)
	}
	recordHistory(s, ref, "payment-changed")
}
