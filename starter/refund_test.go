package starter_test

import (
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A purchase's payments refund after its workflow has closed, through a refund workflow of the
// request's own: under the purchase's key, once per request key, recorded on the purchase (its
// refunded total and audit log) with its status untouched. The histories of both workflows are
// recorded for the replay test.
func TestRefundAfterThePurchasesWorkflowClosed(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	if _, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "early", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, ""); err != nil {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(workflows.EndedRetention+time.Hour))
	if st.Status != domain.PurchaseCancelled {
		t.Fatalf("after the retention: %s", st.Status)
	}
	eventually(t, "the purchase's workflow to close", func() bool {
		d, err := s.tc.DescribeWorkflowExecution(s.ctx, workflows.WorkflowID(ref), "")
		return err == nil && d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})

	res, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "late", Amount: 300, Reason: "goodwill"})
	if err != nil || res.Amount != 300 || res.SourceRef != st.Payments[0].TxnRef || res.State.PurchaseRef != "" {
		t.Fatalf("refund after the workflow closed: %v %+v", err, res)
	}
	again, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "late", Amount: 300, Reason: "goodwill"})
	if err != nil || again.TransactionRef != res.TransactionRef {
		t.Fatalf("the same request again: %v %+v", err, again)
	}
	_, err = s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "too-much", Amount: 700})
	if e := domain.AsError(err); e == nil || e.Code != domain.CodeInvalidField || e.Field != "amount" {
		t.Fatalf("a refund above what is left: %v", err)
	}
	refunds, _ := s.sb.Refunds(s.ctx, ref+"/")
	if len(refunds) != 2 || refunds[1].IdempotencyKey != workflows.RefundKey(ref, "late") {
		t.Fatalf("the processor's refunds: %+v", refunds)
	}
	if p := s.projection(ref); p.RefundedTotal != 400 || p.Status != domain.PurchaseCancelled {
		t.Fatalf("the purchase: %+v", p)
	}
	entries, err := s.st.ListAudit(s.ctx, s.merchant, ref)
	if err != nil || entries[len(entries)-1].Action != "refund" || entries[len(entries)-1].ToStatus != "cancelled" {
		t.Fatalf("audit: %v %+v", err, entries)
	}
	recordHistory(s, ref, "refunds-for-life")
	recordWorkflow(s, workflows.RefundWorkflowID(ref, "late"), "payment-refund")
}
