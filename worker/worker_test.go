package worker_test

import (
	"reflect"
	"testing"

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
// worker registers must have every one of them.
func TestRegistersTheWorkflowAndEveryActivity(t *testing.T) {
	var r registry
	worker.Register(&r, &activities.Activities{})
	if len(r.workflows) != 1 || r.workflows[0] != workflows.PurchaseWorkflow || len(r.acts) != 1 {
		t.Fatalf("registered %+v", r)
	}
	api := reflect.TypeFor[workflows.Activities]()
	impl := reflect.TypeOf(r.acts[0])
	for i := 0; i < api.NumMethod(); i++ {
		if _, ok := impl.MethodByName(api.Method(i).Name); !ok {
			t.Errorf("activity %s is not registered", api.Method(i).Name)
		}
	}
}
