package starter_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// wantOneChargePerPeriod checks the processor's ledger and Postgres against each other: one
// succeeded charge per period, recorded once, under the processor's own id.
func (s *stack) wantOneChargePerPeriod(ref string, periods int) {
	s.t.Helper()
	succeeded, failed := s.ledger(ref)
	if len(succeeded) != periods || len(failed) != 0 {
		s.t.Fatalf("ledger of %s: %d succeeded, %d failed, want %d charges: %+v", ref, len(succeeded), len(failed), periods, succeeded)
	}
	for _, c := range succeeded {
		txn, err := s.st.TransactionByKey(s.ctx, s.merchant, c.IdempotencyKey)
		if err != nil || txn.Status != domain.TxnSucceeded || txn.ProcessorRef != c.ID || txn.Amount != c.Amount {
			s.t.Fatalf("charge %s (%s) recorded as %+v, %v", c.ID, c.IdempotencyKey, txn, err)
		}
	}
	var n int
	if err := s.st.Pool.QueryRow(s.ctx, `SELECT count(*) FROM transactions WHERE merchant_id = $1 AND purchase_id = $2`,
		s.merchant, ref).Scan(&n); err != nil || n != periods {
		s.t.Fatalf("transactions of %s: %d, %v", ref, n, err)
	}
}

// The processor charges, then answers 500, and forgets keys at once (Stripe does after 24 h):
// activation and a renewal each charge exactly once, recorded with the processor's charge id.
func TestProcessorAnswers500AfterCharging(t *testing.T) {
	s := newStack(t)
	s.sb.KeyWindow = time.Nanosecond
	cus, pm := s.customer("4242424242424242")
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourServerErrorAfterCharge); err != nil {
		t.Fatal(err)
	}
	st := s.start(cus, s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 900}))
	if st.Status != domain.PurchaseActive {
		t.Fatalf("activation: %+v", st)
	}
	st = s.advance(st.PurchaseRef, st.PeriodEnd.Add(time.Minute))
	if st.Status != domain.PurchaseActive || st.Period != 2 || len(st.Payments) != 2 {
		t.Fatalf("renewal: %+v", st)
	}
	s.wantOneChargePerPeriod(st.PurchaseRef, 2)
	for _, p := range st.Payments {
		if c, _ := s.sb.Charges(s.ctx, p.Key); len(c) != 1 || c[0].ID != p.ProcessorRef {
			t.Fatalf("payment %+v is not the processor's charge %+v", p, c)
		}
	}
}

// The worker is killed after the processor charged and before Postgres heard of it, and the
// customer changes card meanwhile. The next worker looks the charge up with the card it was
// made with and adopts it: no idempotency mismatch, no second charge, no failed payment.
func TestWorkerKilledAfterChargeWhileCardChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, env := newFaultStack(t, ctx)
	child := startChildWorker(t, append(env, envHang+"=1"))
	cus, first := s.customer("4242424242424242")
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1200})
	ref := domain.NewRef(domain.PrefixPurchase)
	started := make(chan workflows.State, 1)
	go func() {
		out, err := s.c.Start(ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: plan.Ref, PurchaseRef: ref})
		if err != nil {
			t.Error(err)
		}
		started <- out
	}()
	eventually(t, "the processor to charge", func() bool { ok, _ := s.ledger(ref); return len(ok) == 1 })
	s.setCard(cus.Ref, "5555555555554444") // the customer changes card while the charge is unrecorded
	child.kill(t)
	startChildWorker(t, env)

	out := <-started
	if out.Status != domain.PurchaseActive || len(out.Payments) != 1 {
		t.Fatalf("activation after the kill: %+v", out)
	}
	s.wantOneChargePerPeriod(ref, 1)
	if c, _ := s.ledger(ref); c[0].PaymentMethod != first {
		t.Fatalf("charged %s, not the card the charge was made with (%s)", c[0].PaymentMethod, first)
	}
}
