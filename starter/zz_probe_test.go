package starter_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

func TestProbeParallelStarts(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	const n = 60
	custs := make([]domain.Customer, n)
	t0 := time.Now()
	for i := range custs {
		custs[i], _ = s.customer("4242424242424242")
	}
	t.Logf("customers: %v", time.Since(t0))
	t0 = time.Now()
	states := make([]workflows.State, n)
	parallel(t, n, func(i int) error {
		t1 := time.Now()
		var err error
		states[i], err = s.c.Start(s.ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: custs[i].Ref, PlanRef: plan.Ref})
		if d := time.Since(t1); d > time.Second {
			t.Logf("slow start %d: %v", i, d)
		}
		return err
	})
	t.Logf("starts: %v", time.Since(t0))
}
