package starter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

func TestActivatePlanPolicies(t *testing.T) {
	s := newStack(t)
	free := s.plan(domain.Plan{Type: domain.PlanFree, Name: "Free"}) // the product's default
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 2900})
	payg := s.plan(domain.Plan{Type: domain.PlanUsageBased, Name: "PAYG", UnitPrice: 2})
	archived := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Old", Price: 100, Status: domain.StatusArchived})
	noCard, _ := s.customer("")
	withCard, _ := s.customer("4242424242424242")
	failing, _ := s.customer("4000000000000341") // attaches, every charge fails

	activate := func(cus domain.Customer, planRef string) starter.ActivateResult {
		t.Helper()
		res, err := s.c.ActivatePlan(s.ctx, s.merchant, cus.Ref, s.product.Ref, planRef, 0)
		if err != nil {
			t.Fatalf("activate %s: %v", planRef, err)
		}
		return res
	}
	if r := activate(noCard, ""); r.Status != starter.Activated || r.Purchase.PlanRef != free.Ref || r.Purchase.Status != domain.PurchaseActive {
		t.Fatalf("free default plan: %+v", r)
	}
	if r := activate(noCard, ""); r.Status != starter.AlreadyActive {
		t.Fatalf("again: %+v", r)
	}
	if r := activate(noCard, pro.Ref); r.Status != starter.PaymentRequired {
		t.Fatalf("recurring without a card: %+v", r)
	}
	if r := activate(noCard, payg.Ref); r.Status != starter.Activated || r.PreviousPurchaseRef == "" {
		t.Fatalf("pay-as-you-go switches at zero: %+v", r)
	}
	if r := activate(noCard, archived.Ref); r.Status != starter.Invalid || !strings.Contains(r.Message, "archived") {
		t.Fatalf("archived: %+v", r)
	}
	if r := activate(noCard, "pln_nope"); r.Status != starter.Invalid {
		t.Fatalf("unknown plan: %+v", r)
	}

	first := activate(withCard, pro.Ref)
	if first.Status != starter.Activated || first.Purchase.PaidTotal != 2900 {
		t.Fatalf("pro with a card: %+v", first)
	}
	// seed 003: activating another plan of a live purchase changes it now, as a step of the same
	// purchase (the answer keeps its shape: previousPurchaseRef is that purchase)
	switched := activate(withCard, free.Ref)
	if switched.Status != starter.Activated || switched.PreviousPurchaseRef != first.Purchase.Ref ||
		switched.Purchase.Ref != first.Purchase.Ref || switched.Purchase.PlanRef != free.Ref || switched.Purchase.Status != domain.PurchaseActive {
		t.Fatalf("switch: %+v", switched)
	}
	eventually(t, "the purchase on the free plan", func() bool { return s.projection(first.Purchase.Ref).PlanRef == free.Ref })

	if r := activate(failing, pro.Ref); r.Status != starter.PaymentRequired || r.Purchase == nil || r.Purchase.Status != domain.PurchaseExpired {
		t.Fatalf("declined first payment: %+v", r)
	}
	if _, err := s.c.ActivatePlan(s.ctx, "mer_other", withCard.Ref, s.product.Ref, pro.Ref, 0); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("another merchant: %v", err)
	}
}

func TestRefundsAndRefusalsThroughTheStarter(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	archived := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 10, Status: domain.StatusArchived})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef

	res, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "k1", Amount: 400, Reason: "goodwill"})
	if err != nil || res.Amount != 400 || res.State.Status != domain.PurchaseActive {
		t.Fatalf("partial refund: %v %+v", err, res)
	}
	again, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "k1", Amount: 400})
	if err != nil || again.TransactionRef != res.TransactionRef {
		t.Fatalf("same key again: %v %+v", err, again)
	}
	_, err = s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "k2", Amount: 700})
	if e := domain.AsError(err); e == nil || e.Code != domain.CodeInvalidField || e.Field != "amount" ||
		!strings.Contains(e.Message, "only 600") {
		t.Fatalf("refund above what was paid: %v", err)
	}
	if _, err := s.c.ChangePlan(s.ctx, s.merchant, ref, starter.ChangePlanRequest{PlanRef: archived.Ref}); domain.ErrorCode(err) != domain.CodeInvalidField {
		t.Fatalf("change to an archived plan: %v", err)
	}
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, "moving on"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, ""); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("cancel twice: %v", err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Hour))
	if st.Status != domain.PurchaseCancelled {
		t.Fatalf("after period end: %s", st.Status)
	}
	_, err = s.c.Reactivate(s.ctx, s.merchant, ref)
	want := "cannot reactivate: the period ended on " + st.PeriodEnd.Format("2006-01-02")
	if e := domain.AsError(err); e == nil || e.Code != domain.CodeConflict || e.Message != want {
		t.Fatalf("reactivate after period end: %v (want %q)", err, want)
	}
	// refunds of an ended purchase's payments still work
	rest, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "k3"})
	if err != nil || rest.Amount != 600 || rest.State.RefundedTotal != 1000 {
		t.Fatalf("refund the rest: %v %+v", err, rest)
	}
	refunds, _ := s.sb.Refunds(s.ctx, ref+"/")
	if len(refunds) != 2 {
		t.Fatalf("processor refunds: %+v", refunds)
	}
	if _, err := s.c.Refund(s.ctx, "mer_other", ref, workflows.RefundInput{RequestKey: "k4"}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("another merchant: %v", err)
	}
	eventually(t, "refunded total in the projection", func() bool { return s.projection(ref).RefundedTotal == 1000 })
	recordHistory(s, ref, "refunds-cancelled")
}
