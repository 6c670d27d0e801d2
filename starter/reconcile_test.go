package starter_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// reconcile runs a reconciliation of the last hour to its end and answers its report.
func (s *stack) reconcile() workflows.ReconcileReport {
	s.t.Helper()
	run, err := s.c.Reconcile(s.ctx, workflows.ReconcileInput{Window: time.Hour})
	if err != nil {
		s.t.Fatal(err)
	}
	var rep workflows.ReconcileReport
	if err := run.Get(s.ctx, &rep); err != nil {
		s.t.Fatal(err)
	}
	if !rep.Done || len(rep.Processors) != 1 || rep.Processors[0].Processor != "sandbox" {
		s.t.Fatalf("report: %+v", rep)
	}
	s.lastReconcile = run.GetID()
	return rep
}

func wantCounts(t *testing.T, what string, rep workflows.ReconcileReport, want workflows.ReconcileCounts) {
	t.Helper()
	if rep.Total != want {
		t.Fatalf("%s: %s, want %s", what, rep.Total, want)
	}
}

// The ledger and the sandbox agree: every payment and refund matches, nothing is adopted or
// flagged, and the rows are marked reconciled.
func TestReconcileAllMatched(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	if _, err := s.c.Refund(s.ctx, s.merchant, st.PurchaseRef, workflows.RefundInput{RequestKey: "k1", Amount: 500}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rep := s.reconcile()
		wantCounts(t, fmt.Sprint("run ", i+1), rep, workflows.ReconcileCounts{Seen: 2, Matched: 2})
	}
	var unmarked int
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT count(*) FROM transactions WHERE reconciled_at IS NULL OR reconcile_flag <> ''`).
		Scan(&unmarked); err != nil || unmarked != 0 {
		t.Fatalf("transactions not marked reconciled: %d %v", unmarked, err)
	}
}

// A renewal charge the sandbox made whose answer never reached the ledger is adopted once,
// under the charge's own key and the sandbox's id; a second run adopts nothing; and the renewal
// itself, when it comes, finds the charge instead of charging again.
func TestReconcileAdoptsAMissedPayment(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, pm := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	_, processorCustomer, err := s.st.CustomerPaymentTarget(s.ctx, s.merchant, cus.Ref)
	if err != nil {
		t.Fatal(err)
	}
	key := ref + "/period-2/charge"
	missed, err := s.sb.Charge(s.ctx, payments.ChargeInput{IdempotencyKey: key, ProcessorCustomerID: processorCustomer,
		PaymentMethod: pm, Amount: 2000, Currency: plan.Currency, Metadata: map[string]string{"purchaseRef": ref, "period": "2"}})
	if err != nil {
		t.Fatal(err)
	}

	rep := s.reconcile()
	wantCounts(t, "first run", rep, workflows.ReconcileCounts{Seen: 2, Matched: 1, Adopted: 1})
	adopted, err := s.st.TransactionByKey(s.ctx, s.merchant, key)
	if err != nil || adopted.ProcessorRef != missed.ProcessorRef || adopted.Status != domain.TxnSucceeded ||
		adopted.Period != 2 || adopted.PurchaseRef != ref || adopted.Amount != 2000 || adopted.Reason != "adopted_by_reconciliation" {
		t.Fatalf("adopted: %v %+v", err, adopted)
	}
	if len(rep.AdoptedRefs) != 1 || rep.AdoptedRefs[0] != adopted.Ref {
		t.Fatalf("report names %v, want %s", rep.AdoptedRefs, adopted.Ref)
	}
	// the merchant hears of it as of any payment
	if evs, _, err := s.st.ListEvents(s.ctx, s.merchant, store.EventFilter{Mode: domain.ModeSandbox, ObjectRef: adopted.Ref},
		store.Page{Page: 1, Limit: 10}); err != nil || len(evs) != 1 || evs[0].Type != domain.EventPaymentSucceeded {
		t.Fatalf("events of the adopted payment: %v %+v", err, evs)
	}
	wantCounts(t, "second run", s.reconcile(), workflows.ReconcileCounts{Seen: 2, Matched: 2})

	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Period != 2 || st.Status != domain.PurchaseActive {
		t.Fatalf("renewed: %+v", st)
	}
	if ok, failed := s.ledger(ref); len(ok) != 2 || len(failed) != 0 {
		t.Fatalf("the sandbox holds %d charges (%d failed), want 2: the renewal charged again", len(ok), len(failed))
	}
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil || len(txns) != 2 || txns[1].Ref != adopted.Ref {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
}

// A full refund made at the processor whose event never came is adopted as the purchase's
// workflow books one (same key, same reason), and the workflow, told through payment-changed,
// takes it into its state: the current period refunded in full ends the purchase as refunded.
// A second run adopts nothing.
func TestReconcileAdoptsAMissedRefund(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref, pay := st.PurchaseRef, st.Payments[0]
	if _, err := s.st.Pool.Exec(s.ctx, `INSERT INTO sandbox_refunds (id, idempotency_key, charge_id, amount, currency, status)
		VALUES ('re_sb_dashboard1', '', $1, 2000, 'USD', 'succeeded')`, pay.ProcessorRef); err != nil {
		t.Fatal(err)
	}

	rep := s.reconcile()
	wantCounts(t, "first run", rep, workflows.ReconcileCounts{Seen: 2, Matched: 1, Adopted: 1})
	recordWorkflow(s, s.lastReconcile, "reconcile-adopted")
	refund, err := s.st.TransactionByKey(s.ctx, s.merchant, workflows.RefundKey(ref, "processor/re_sb_dashboard1"))
	if err != nil || refund.Kind != domain.TxnRefund || refund.Amount != 2000 || refund.SourceRef != pay.TxnRef ||
		refund.ProcessorRef != "re_sb_dashboard1" || refund.Reason != "refunded_outside_tollgate" {
		t.Fatalf("adopted refund: %v %+v", err, refund)
	}
	eventually(t, "the purchase refunded", func() bool { return s.projection(ref).Status == domain.PurchaseRefunded })
	final, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || final.RefundedTotal != 2000 || len(final.Refunds) != 1 || final.Refunds[0].TxnRef != refund.Ref {
		t.Fatalf("state: %v %+v", err, final)
	}
	wantCounts(t, "second run", s.reconcile(), workflows.ReconcileCounts{Seen: 2, Matched: 2})
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil || len(txns) != 2 {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
}

// A ledger payment the sandbox has never heard of is flagged — on the row, in the report — and
// stays flagged on the next run; the rows the sandbox knows are not.
func TestReconcileFlagsAnUnknownLedgerRow(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ghost, _, err := s.st.InsertTransaction(s.ctx, domain.Transaction{MerchantRef: s.merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: 2000, Currency: plan.Currency, PurchaseRef: st.PurchaseRef, CustomerRef: cus.Ref,
		Period: 2, IdempotencyKey: st.PurchaseRef + "/period-2/charge", Processor: "sandbox", ProcessorRef: "ch_sb_ghost"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rep := s.reconcile()
		wantCounts(t, fmt.Sprint("run ", i+1), rep, workflows.ReconcileCounts{Seen: 1, Matched: 1, Flagged: 1})
		if len(rep.FlaggedRefs) != 1 || rep.FlaggedRefs[0] != ghost.Ref {
			t.Fatalf("report flags %v, want %s", rep.FlaggedRefs, ghost.Ref)
		}
	}
	var flag string
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT reconcile_flag FROM transactions WHERE id = $1`, ghost.Ref).Scan(&flag); err != nil ||
		flag != store.FlagUnknownToProcessor {
		t.Fatalf("flag on the row: %q %v", flag, err)
	}
	var others int
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT count(*) FROM transactions WHERE reconcile_flag <> '' AND id <> $1`, ghost.Ref).
		Scan(&others); err != nil || others != 0 {
		t.Fatalf("%d other rows flagged: %v", others, err)
	}
}
