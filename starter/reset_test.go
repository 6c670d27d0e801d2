package starter_test

import (
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// An operator resets a purchase's workflow (what `temporal workflow reset` does) to before the
// test clock played three renewals. The reset run numbers its steps again from the reset point;
// its next step still moves the Postgres projection to the workflow's state.
func TestProjectionFollowsAWorkflowReset(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	for range 3 {
		st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	}
	eventually(t, "the projection of period 4", func() bool { return s.projection(ref).Period == 4 })
	before := s.projection(ref)

	// reset to the workflow task that completed before the first advance-clock update, without
	// reapplying the updates and signals that followed
	resetPoint := lastTaskBeforeFirstUpdate(t, s, ref, workflows.UpdateAdvanceClock)
	_, err := s.tc.ResetWorkflowExecution(s.ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 testenvNamespace,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: workflows.WorkflowID(ref)},
		Reason:                    "operator: back to before the test clock",
		WorkflowTaskFinishEventId: resetPoint,
		RequestId:                 domain.NewRef("reset"),
		ResetReapplyExcludeTypes: []enumspb.ResetReapplyExcludeType{enumspb.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
			enumspb.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE},
	})
	if err != nil {
		t.Fatal(err)
	}
	reset, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || reset.Period != 1 || reset.Seq >= before.Seq {
		t.Fatalf("after the reset: %v period %d seq %d (projection seq %d)", err, reset.Period, reset.Seq, before.Seq)
	}

	// the reset run's next step is written
	after, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, "after the reset")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the projection of the reset run", func() bool {
		p := s.projection(ref)
		return p.Period == 1 && p.CancelledAt != nil && p.Seq == after.Seq
	})
	if p := s.projection(ref); !p.CurrentPeriodEnd.Equal(after.PeriodEnd) || p.PaidTotal != after.PaidTotal {
		t.Fatalf("projection %+v, workflow %+v", p, after)
	}
}

// lastTaskBeforeFirstUpdate is the last WorkflowTaskCompleted event before the workflow task
// that accepted the first update named name: a reset point where the workflow was waiting.
func lastTaskBeforeFirstUpdate(t *testing.T, s *stack, ref, name string) int64 {
	t.Helper()
	var lastCompleted, candidate int64
	it := s.tc.GetWorkflowHistory(s.ctx, workflows.WorkflowID(ref), "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			candidate, lastCompleted = lastCompleted, ev.GetEventId()
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			if ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName() == name {
				return candidate // lastCompleted is the task that accepted it
			}
		}
	}
	t.Fatalf("no %s update in the history of %s", name, ref)
	return 0
}
