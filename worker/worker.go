// Package worker builds the Temporal worker of the purchase workflows: registration and options.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Options tune the worker; zero values take the defaults.
type Options struct {
	TaskQueue                    string // workflows.TaskQueue
	MaxConcurrentActivities      int    // SDK default
	MaxConcurrentWorkflowTasks   int    // SDK default
	StickyScheduleToStartTimeout time.Duration
}

// New builds a worker for the purchase workflow and its activities. It is not started.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	if opts.TaskQueue == "" {
		opts.TaskQueue = workflows.TaskQueue
	}
	if opts.StickyScheduleToStartTimeout == 0 {
		// On a small box the default 5 s lets a busy worker lose its sticky cache and replay
		// whole histories; a minute removes those multi-second stalls.
		opts.StickyScheduleToStartTimeout = time.Minute
	}
	w := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflowTasks,
		StickyScheduleToStartTimeout:           opts.StickyScheduleToStartTimeout,
	})
	Register(w, acts)
	return w
}

// Registry is what workflows and activities are registered on.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivity(a any)
}

// Register registers the purchase, processor-event, refund, reconciliation and webhook workflows
// and their activities.
func Register(r Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Purchase, workflow.RegisterOptions{Name: workflows.PurchaseWorkflow})
	r.RegisterWorkflowWithOptions(workflows.ProcessorEvent, workflow.RegisterOptions{Name: workflows.ProcessorEventWorkflow})
	r.RegisterWorkflowWithOptions(workflows.PaymentRefund, workflow.RegisterOptions{Name: workflows.PaymentRefundWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Reconcile, workflow.RegisterOptions{Name: workflows.ReconcileWorkflow})
	r.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookDeliveryWorkflow})
	r.RegisterWorkflowWithOptions(workflows.WebhookEndpoint, workflow.RegisterOptions{Name: workflows.WebhookEndpointWorkflow})
	r.RegisterActivity(acts)
}
