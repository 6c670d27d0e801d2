package starter_test

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestForgedPurchaseMovesNoMoney: someone who reaches Temporal directly, around the API, starts
// a purchase at a price of their own for a customer with a card on file, and sends a refund
// update to a real purchase. The forged purchase fails before its first step (never projected,
// so no access, and never charged); the refund is refused; the merchant's audit log says why;
// the API's own purchase and refund still work.
func TestForgedPurchaseMovesNoMoney(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, _ := s.customer("4242424242424242")
	real := s.start(cus, plan)

	forgedPlan := plan
	forgedPlan.Price = 500_000
	in := workflows.PurchaseInput{PurchaseRef: domain.NewRef(domain.PrefixPurchase), MerchantRef: s.merchant,
		CustomerRef: cus.Ref, Plan: forgedPlan}
	run, err := s.tc.ExecuteWorkflow(s.ctx, s.c.StartOptions(in), workflows.PurchaseWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the forged purchase refused", func() bool { return s.refusals(in.PurchaseRef) == "projection_refused" })
	if err := run.Get(s.ctx, nil); err == nil {
		t.Fatal("the forged purchase workflow completed")
	}
	if ok, failed := s.ledger(in.PurchaseRef); len(ok)+len(failed) != 0 {
		t.Fatalf("the processor saw the forged purchase: %+v %+v", ok, failed)
	}
	if _, err := s.st.GetPurchase(s.ctx, s.merchant, in.PurchaseRef); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("the forged purchase was projected (and so grants access): %v", err)
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
		if strings.HasSuffix(e.Action, "_refused") {
			if out != "" {
				out += ","
			}
			out += e.Action
		}
	}
	return out
}
