package starter_test

import (
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestForgedPurchaseMovesNoMoney: someone who reaches Temporal directly, around the API, starts
// a purchase at a price of their own for a customer with a card on file, and sends a refund
// update to a real purchase. Neither moves money; the merchant's audit log says why; the API's
// own purchase and refund still work.
func TestForgedPurchaseMovesNoMoney(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, _ := s.customer("4242424242424242")
	real := s.start(cus, plan)

	forgedPlan := plan
	forgedPlan.Price = 500_000
	in := workflows.PurchaseInput{PurchaseRef: domain.NewRef(domain.PrefixPurchase), MerchantRef: s.merchant,
		CustomerRef: cus.Ref, Plan: forgedPlan}
	if _, err := s.tc.ExecuteWorkflow(s.ctx, s.c.StartOptions(in), workflows.PurchaseWorkflow, in); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the forged charge refused", func() bool { return s.refusals(in.PurchaseRef) == "charge_refused" })
	if ok, failed := s.ledger(in.PurchaseRef); len(ok)+len(failed) != 0 {
		t.Fatalf("the processor saw the forged purchase: %+v %+v", ok, failed)
	}
	eventually(t, "the forged purchase expired", func() bool { return s.projection(in.PurchaseRef).Status == domain.PurchaseExpired })
	if p := s.projection(in.PurchaseRef); p.PaidTotal != 0 {
		t.Fatalf("forged purchase paid %d", p.PaidTotal)
	}

	h, err := s.tc.UpdateWorkflow(s.ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(real.PurchaseRef),
		UpdateName: workflows.UpdateRefund, Args: []any{workflows.RefundInput{RequestKey: "forged", Amount: 1000}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		var res workflows.RefundResult
		if err = h.Get(s.ctx, &res); err == nil {
			t.Fatalf("forged refund answered %+v", res)
		}
	}
	if got := s.refusals(real.PurchaseRef); got != "refund_refused" {
		t.Fatalf("refusals of the real purchase: %q", got)
	}
	if refunds, _ := s.sb.Refunds(s.ctx, real.PurchaseRef+"/"); len(refunds) != 0 {
		t.Fatalf("the processor refunded: %+v", refunds)
	}
	txns, _, err := s.st.ListTransactions(s.ctx, s.merchant, store.TransactionFilter{}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(txns) != 1 || txns[0].PurchaseRef != real.PurchaseRef || txns[0].Amount != 1000 {
		t.Fatalf("transactions: %v %+v", err, txns)
	}
	if res, err := s.c.Refund(s.ctx, s.merchant, real.PurchaseRef, workflows.RefundInput{RequestKey: "asked", Amount: 100}); err != nil || res.Amount != 100 {
		t.Fatalf("the API's refund: %v %+v", err, res)
	}
}

// refusals lists the refused money movements in a purchase's audit log.
func (s *stack) refusals(ref string) string {
	s.t.Helper()
	entries, err := s.st.ListAudit(s.ctx, s.merchant, ref)
	if err != nil {
		s.t.Fatal(err)
	}
	out := ""
	for _, e := range entries {
		if e.Action == "charge_refused" || e.Action == "refund_refused" {
			if out != "" {
				out += ","
			}
			out += e.Action
		}
	}
	return out
}
