package starter_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

func TestProbeStartThenUpdate(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	const n = 60
	custs := make([]domain.Customer, n)
	for i := range custs {
		custs[i], _ = s.customer("4242424242424242")
	}
	t0 := time.Now()
	parallel(t, n, func(i int) error {
		t1 := time.Now()
		in := workflows.PurchaseInput{PurchaseRef: domain.NewRef("pur"), MerchantRef: s.merchant, CustomerRef: custs[i].Ref, Plan: plan, Sandbox: true}
		_, err := s.tc.ExecuteWorkflow(s.ctx, s.c.StartOptions(in), workflows.PurchaseWorkflow, in)
		if err != nil {
			return err
		}
		t2 := time.Since(t1)
		h, err := s.tc.UpdateWorkflow(s.ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(in.PurchaseRef), UpdateName: workflows.UpdateActivation, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		var st workflows.State
		err = h.Get(s.ctx, &st)
		if i == n-1 {
			lastRef = in.PurchaseRef
		}
		if d := time.Since(t1); d > time.Second {
			t.Logf("slow %d: start %v total %v", i, t2, d)
		}
		return err
	})
	t.Logf("starts: %v", time.Since(t0))
	it := s.tc.GetWorkflowHistory(s.ctx, workflows.WorkflowID(lastRef), "", false, 0)
	var first time.Time
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = ev.EventTime.AsTime()
		}
		t.Logf("%6dms %s", ev.EventTime.AsTime().Sub(first).Milliseconds(), ev.EventType)
	}
}

var lastRef string
