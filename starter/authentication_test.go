package starter_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestRenewalAuthenticationPaysThePeriodOnce: a renewal the bank wants authenticated (3-D
// Secure) is not a plain decline. The purchase goes past due with reason
// authentication_required, keeping the payment open with a /pay token for it; a failed
// authentication leaves it past due; the approved one pays the period with that very payment
// (one charge for the period in the processor's ledger), and the event delivered again changes
// nothing.
func TestRenewalAuthenticationPaysThePeriodOnce(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	cus, pm := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourAuthenticationRequired); err != nil {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Status != domain.PurchasePastDue || st.Dunning == nil || st.Dunning.Authentication == nil ||
		st.Dunning.LastError != payments.CodeAuthenticationRequired {
		t.Fatalf("after the renewal asked for authentication: %+v %+v", st.Status, st.Dunning)
	}
	eventually(t, "past due for authentication", func() bool {
		p := s.projection(ref)
		return p.Status == domain.PurchasePastDue && p.PastDueReason == payments.CodeAuthenticationRequired
	})
	auth, err := s.st.OpenPaymentAuthentication(s.ctx, s.merchant, ref)
	if err != nil || auth.PaymentRef != st.Dunning.Authentication.ProcessorRef || auth.Amount != 2000 || len(auth.Token) < 36 {
		t.Fatalf("the /pay page of the payment: %v %+v", err, auth)
	}

	ev, err := s.sb.Authenticate(s.ctx, auth.PaymentRef, false)
	if err != nil || ev.Type != "payment_intent.payment_failed" {
		t.Fatalf("failed authentication: %v %+v", err, ev)
	}
	s.deliver("failed", auth.PaymentRef, ev)
	eventually(t, "the failed authentication audited", func() bool {
		entries, _ := s.st.ListAudit(s.ctx, s.merchant, ref)
		return slices.ContainsFunc(entries, func(e store.AuditEntry) bool { return e.Action == "authentication_failed" })
	})
	if p := s.projection(ref); p.Status != domain.PurchasePastDue || p.PaidTotal != 2000 {
		t.Fatalf("after a failed authentication: %s paid %d", p.Status, p.PaidTotal)
	}

	ev, err = s.sb.Authenticate(s.ctx, auth.PaymentRef, true)
	if err != nil || ev.Type != "payment_intent.succeeded" {
		t.Fatalf("approved authentication: %v %+v", err, ev)
	}
	s.deliver("succeeded", auth.PaymentRef, ev)
	eventually(t, "active again", func() bool { return s.projection(ref).Status == domain.PurchaseActive })
	s.deliver("succeeded-again", auth.PaymentRef, ev)
	final, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || final.Status != domain.PurchaseActive || final.PaidTotal != 4000 || final.Dunning != nil || final.Period != 2 {
		t.Fatalf("state: %v %+v", err, final)
	}
	if p := s.projection(ref); p.PaidTotal != 4000 || p.PastDueReason != "" {
		t.Fatalf("projection: %+v", p)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 2 || len(failed) != 0 || ok[1].ID != auth.PaymentRef {
		t.Fatalf("ledger: %+v failed %+v", ok, failed)
	}
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil || len(txns) != 2 || txns[1].Status != domain.TxnSucceeded || txns[1].Ref != auth.TxnRef {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
	want := []string{"pending", "active", "past_due", "active"}
	if got := s.transitions(ref); !slices.Equal(got, want) {
		t.Fatalf("audit: %v", got)
	}
	recordHistory(s, ref, "authentication-recovered")
}

// TestFirstPaymentAuthenticationPaysOnce: a first payment the bank wants authenticated (3184,
// which asks on every off-session payment) does not fail the purchase: it stays pending with
// the payment kept (and its /pay page), Start answers at once, and the approved
// authentication starts the purchase paid by that very payment, one charge in the ledger; the
// event delivered again changes nothing. A refused authentication ends the purchase as a
// failed first payment, nothing charged.
func TestFirstPaymentAuthenticationPaysOnce(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 2000})
	asks := func() (workflows.State, store.PaymentAuthentication) {
		t.Helper()
		cus, _ := s.customer("4000002760003184")
		st := s.start(cus, plan)
		if st.Status != domain.PurchasePending || st.Authenticating == nil || st.Authenticating.Amount != 2000 ||
			!st.Authenticating.Until.After(st.StartedAt) {
			t.Fatalf("a first payment that asks: %s %+v", st.Status, st.Authenticating)
		}
		auth, err := s.st.OpenPaymentAuthentication(s.ctx, s.merchant, st.PurchaseRef)
		if err != nil || auth.PaymentRef != st.Authenticating.ProcessorRef || auth.Amount != 2000 {
			t.Fatalf("the payment's authentication: %v %+v", err, auth)
		}
		return st, auth
	}

	st, auth := asks()
	ref := st.PurchaseRef
	ev, err := s.sb.Authenticate(s.ctx, auth.PaymentRef, true)
	if err != nil || ev.Type != "payment_intent.succeeded" {
		t.Fatalf("approved authentication: %v %+v", err, ev)
	}
	s.deliver("approved", auth.PaymentRef, ev)
	eventually(t, "active", func() bool { return s.projection(ref).Status == domain.PurchaseActive })
	s.deliver("approved-again", auth.PaymentRef, ev)
	final, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || final.Status != domain.PurchaseActive || final.PaidTotal != 2000 || final.Period != 1 ||
		final.Authenticating != nil || len(final.Payments) != 1 || final.Payments[0].ProcessorRef != auth.PaymentRef {
		t.Fatalf("state: %v %+v", err, final)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 1 || len(failed) != 0 || ok[0].ID != auth.PaymentRef {
		t.Fatalf("ledger: %+v failed %+v", ok, failed)
	}
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil || len(txns) != 1 || txns[0].Status != domain.TxnSucceeded || txns[0].Ref != auth.TxnRef {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
	if got, want := s.transitions(ref), []string{"pending", "active"}; !slices.Equal(got, want) {
		t.Fatalf("audit: %v", got)
	}
	recordHistory(s, ref, "first-authentication")

	st, auth = asks()
	ev, err = s.sb.Authenticate(s.ctx, auth.PaymentRef, false)
	if err != nil || ev.Type != "payment_intent.payment_failed" {
		t.Fatalf("refused authentication: %v %+v", err, ev)
	}
	s.deliver("refused", auth.PaymentRef, ev)
	eventually(t, "expired", func() bool { return s.projection(st.PurchaseRef).Status == domain.PurchaseExpired })
	if final, _ := s.c.State(s.ctx, s.merchant, st.PurchaseRef); final.EndReason != "first_payment_failed: payment_intent_authentication_failure" ||
		final.PaidTotal != 0 {
		t.Fatalf("refused: %+v", final)
	}
	if ok, _ := s.ledger(st.PurchaseRef); len(ok) != 0 {
		t.Fatalf("a refused authentication charged: %+v", ok)
	}
}

// deliver sends the sandbox's event about payment to its purchase as the webhook handler does
// (recorded under evt_sb_<name>, then processed), and waits until it is processed. Its
// processing is a workflow named by the event, on the Temporal server every test shares: a
// name is used by one test only.
func (s *stack) deliver(name, payment string, ev sandbox.Event) {
	s.t.Helper()
	id := "evt_sb_" + name
	if _, _, err := s.st.RecordProcessorEvent(s.ctx, store.ProcessorEvent{ID: id, Processor: "sandbox",
		Type: ev.Type, ObjectRef: payment, Payload: []byte(`{}`)}); err != nil {
		s.t.Fatal(err)
	}
	if err := s.c.ProcessEvent(s.ctx, workflows.ProcessorEventInput{EventID: id, Processor: "sandbox", Type: ev.Type,
		PaymentRef: payment, Ours: true}); err != nil {
		s.t.Fatal(err)
	}
	eventually(s.t, name+" processed", func() bool { done, _, _ := s.st.ProcessorEventOutcome(s.ctx, id); return done })
}
