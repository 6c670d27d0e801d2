package worker_test

import (
	"reflect"
	"slices"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

type registry struct {
	workflows []string
	acts      []any
}

func (r *registry) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.workflows = append(r.workflows, o.Name)
}
func (r *registry) RegisterActivity(a any) { r.acts = append(r.acts, a) }

// The workflow calls its activities by the method names of workflows.Activities; the struct the
// worker registers must be known to the SDK under every one of them. That the struct has the
// methods is already a compile-time assertion in activities; what can still break is the
// registration, so the names are looked up in a real SDK registry.
func TestRegistersTheWorkflowsAndEveryActivity(t *testing.T) {
	var r registry
	acts := &activities.Activities{}
	worker.Register(&r, acts)
	want := []string{workflows.PurchaseWorkflow, workflows.ProcessorEventWorkflow, workflows.PaymentRefundWorkflow,
		workflows.ReconcileWorkflow, workflows.WebhookDeliveryWorkflow, workflows.WebhookEndpointWorkflow}
	if !slices.Equal(r.workflows, want) || len(r.acts) != 1 || r.acts[0] != any(acts) {
		t.Fatalf("registered %+v", r)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	worker.Register(env, acts)
	var names []string
	for _, api := range []reflect.Type{reflect.TypeFor[workflows.Activities](), reflect.TypeFor[workflows.EventActivities](),
		reflect.TypeFor[workflows.ReconcileActivities](), reflect.TypeFor[workflows.WebhookActivities](),
		reflect.TypeFor[workflows.WebhookEndpointActivities]()} {
		for i := range api.NumMethod() {
			names = append(names, api.Method(i).Name)
		}
	}
	for _, name := range names {
		func() {
			defer func() {
				if p := recover(); p != nil { // OnActivity panics on a name the registry lacks
					t.Errorf("activity %s: %v", name, p)
				}
			}()
			env.OnActivity(name)
		}()
	}
}
