package starter

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/workflows"
)

// Reconcile starts a reconciliation run (workflows.Reconcile) now and answers its handle; its
// result is the run's report, and QueryReconcileProgress answers the report so far.
func (c *Client) Reconcile(ctx context.Context, in workflows.ReconcileInput) (client.WorkflowRun, error) {
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            workflows.ReconcileWorkflowID(time.Now()),
		TaskQueue:     c.taskQueue(),
		StaticSummary: "reconciliation with the payment processors",
	}, workflows.ReconcileWorkflow, in)
	if err != nil {
		return nil, fmt.Errorf("start reconciliation: %w", err)
	}
	return run, nil
}

// ReconcileProgress answers the report so far of a running (or finished) reconciliation.
func (c *Client) ReconcileProgress(ctx context.Context, workflowID string) (workflows.ReconcileReport, error) {
	var rep workflows.ReconcileReport
	v, err := c.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.QueryReconcileProgress)
	if err != nil {
		return rep, err
	}
	return rep, v.Get(&rep)
}

// ReconcileSchedule is how often the reconciliation schedule starts a run and how far back each
// run looks. Every zero (or negative) means no schedule.
type ReconcileSchedule struct {
	Every  time.Duration
	Window time.Duration
}

// EnsureReconcileSchedule creates the reconciliation schedule (workflows.ReconcileScheduleID),
// or updates the one there to s, or deletes it when s.Every is zero. Every worker calls it at
// start, so it is idempotent: the same settings leave the schedule as it is. A run still going
// when the next is due makes that one skip.
func (c *Client) EnsureReconcileSchedule(ctx context.Context, s ReconcileSchedule) error {
	sc := c.Temporal.ScheduleClient()
	h := sc.GetHandle(ctx, workflows.ReconcileScheduleID)
	if s.Every <= 0 {
		err := h.Delete(ctx)
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("delete the reconciliation schedule: %w", err)
		}
		return nil
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}}
	action := &client.ScheduleWorkflowAction{ID: workflows.ReconcileScheduleID, Workflow: workflows.ReconcileWorkflow,
		Args: []any{workflows.ReconcileInput{Window: s.Window}}, TaskQueue: c.taskQueue()}
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: workflows.ReconcileScheduleID, Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    "Tollgate: reconcile the payment processors' payments and refunds with the ledger"})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create the reconciliation schedule: %w", err)
		}
		return nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sched := in.Description.Schedule
		sched.Spec, sched.Action = &spec, action
		if sched.Policy != nil {
			sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		}
		return &client.ScheduleUpdate{Schedule: &sched}, nil
	}})
	if err != nil {
		return fmt.Errorf("update the reconciliation schedule: %w", err)
	}
	return nil
}
