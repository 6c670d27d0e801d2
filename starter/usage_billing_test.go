package starter_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/usage"
)

// Usage recorded while renewals run, late (stamped in a period already billed) and stamped by the
// wall clock while the purchase's test clock runs months ahead: every unit is billed exactly once.
func TestEveryUsageUnitIsBilledOnceWhileRenewalsRun(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanUsageBased, UnitPrice: 100, Meter: "requests", BillingCycle: domain.CycleMonthly})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef

	var recorded atomic.Int64
	var seq atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	record := func(batch int) error {
		events := make([]usage.Event, batch)
		var units int64
		for i := range events {
			n := seq.Add(1)
			at := time.Now()
			if n%3 == 0 { // late: stamped weeks before the purchase's current period
				at = at.AddDate(0, 0, -40)
			}
			events[i] = usage.Event{CustomerRef: cus.Ref, ProductRef: s.product.Ref, Meter: "requests", Units: n%3 + 1,
				Outcome: usage.OutcomeSuccess, IdempotencyKey: fmt.Sprintf("ev-%d", n), OccurredAt: at}
			units += n%3 + 1
		}
		if _, err := usage.New(s.st.Pool).RecordMany(s.ctx, s.merchant, events); err != nil {
			return err
		}
		recorded.Add(units)
		return nil
	}
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := record(1 + (w%2)*rand.IntN(20)); err != nil { // singles and batches
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		time.Sleep(150 * time.Millisecond)
		st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute)) // bills what the last period still holds

	charges, failed := s.ledger(ref)
	if len(failed) > 0 {
		t.Fatalf("failed charges: %+v", failed)
	}
	var billed int64
	for _, c := range charges {
		billed += c.Amount / plan.UnitPrice
	}
	if got := recorded.Load(); billed != got || got == 0 {
		t.Fatalf("billed %d units over %d renewals, recorded %d", billed, st.Period-1, got)
	}
}
