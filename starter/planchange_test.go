package starter_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// An upgrade is a step of the same purchase: previewed, then made at the preview's instant and
// charged exactly what the preview said under the change's own key; a downgrade is scheduled for
// the period end, shown on the projection, and applied there at the new price.
func TestPlanChangeInsideThePurchase(t *testing.T) {
	s := newStack(t)
	basic := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Basic", Price: 1000})
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 3000})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, basic)
	ref := st.PurchaseRef
	st = s.advance(ref, st.PeriodStart.AddDate(0, 0, 10))

	up := starter.ChangePlanRequest{PlanRef: pro.Ref, RequestKey: "upgrade-1"}
	q, err := s.c.PreviewChange(s.ctx, s.merchant, ref, up)
	if err != nil || q.Direction != workflows.ChangeUpgrade || q.Effective != workflows.EffectiveNow || q.Total <= 0 {
		t.Fatalf("preview: %v %+v", err, q)
	}
	up.ProrationDate = &q.ProrationDate
	res, err := s.c.ChangePlan(s.ctx, s.merchant, ref, up)
	if err != nil {
		t.Fatal(err)
	}
	if res.Purchase.PurchaseRef != ref || res.Purchase.Plan.Ref != pro.Ref || res.Previous.Plan.Ref != basic.Ref ||
		res.Change == nil || res.Change.Total != q.Total || !res.Purchase.Anchor.Equal(st.Anchor) || !res.Purchase.PeriodEnd.Equal(st.PeriodEnd) {
		t.Fatalf("change: %v %+v (preview total %d)", err, res, q.Total)
	}
	again, err := s.c.ChangePlan(s.ctx, s.merchant, ref, up) // a retried request answers the same change
	if err != nil || again.Change == nil || again.Change.Seq != res.Change.Seq {
		t.Fatalf("retried change: %v %+v", err, again)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 2 || len(failed) != 0 || ok[1].IdempotencyKey != ref+"/change-1/charge" || ok[1].Amount != q.Total {
		t.Fatalf("ledger: %+v %+v", ok, failed)
	}
	eventually(t, "the projection on Pro", func() bool { return s.projection(ref).PlanRef == pro.Ref })

	down, err := s.c.ChangePlan(s.ctx, s.merchant, ref, starter.ChangePlanRequest{PlanRef: basic.Ref, RequestKey: "down-1"})
	if err != nil || down.Scheduled == nil || down.Purchase.Plan.Ref != pro.Ref || !down.Scheduled.At.Equal(st.PeriodEnd) {
		t.Fatalf("downgrade: %v %+v", err, down)
	}
	eventually(t, "the scheduled change in the projection", func() bool {
		sc := s.projection(ref).ScheduledChange
		return sc != nil && sc.PlanRef == basic.Ref && sc.EffectiveAt.Equal(st.PeriodEnd)
	})
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Plan.Ref != basic.Ref || st.Period != 2 || st.ScheduledChange != nil {
		t.Fatalf("at the boundary: plan %s period %d", st.Plan.Ref, st.Period)
	}
	ok, _ = s.ledger(ref)
	if len(ok) != 3 || ok[2].IdempotencyKey != ref+"/period-2/charge" || ok[2].Amount != 1000 {
		t.Fatalf("renewal after the downgrade: %+v", ok)
	}
	eventually(t, "the projection on Basic", func() bool {
		p := s.projection(ref)
		return p.PlanRef == basic.Ref && p.ScheduledChange == nil && p.Period == 2
	})
	recordHistory(s, ref, "plan-changed")
}

// A declined difference leaves the purchase on its old plan, unchanged, and says so in words.
func TestDeclinedUpgradeKeepsThePlan(t *testing.T) {
	s := newStack(t)
	basic := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Basic", Price: 1000})
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 3000})
	cus, pm := s.customer("pm_card_visa")
	st := s.start(cus, basic)
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourFailsAfterAttach); err != nil {
		t.Fatal(err)
	}
	_, err := s.c.ChangePlan(s.ctx, s.merchant, st.PurchaseRef, starter.ChangePlanRequest{PlanRef: pro.Ref})
	e := domain.AsError(err)
	if e == nil || e.Code != domain.CodePaymentRequired || !strings.Contains(e.Message, "declined") ||
		!strings.Contains(e.Message, "stays on plan "+basic.Ref) {
		t.Fatalf("declined upgrade: %v", err)
	}
	after, err := s.c.State(s.ctx, s.merchant, st.PurchaseRef)
	if err != nil || after.Plan.Ref != basic.Ref || after.Status != domain.PurchaseActive || after.PaidTotal != 1000 ||
		!after.PeriodEnd.Equal(st.PeriodEnd) {
		t.Fatalf("after the decline: %v %+v", err, after)
	}
	if p := s.projection(st.PurchaseRef); p.PlanRef != basic.Ref || p.Status != domain.PurchaseActive {
		t.Fatalf("projection: %+v", p)
	}
	recordHistory(s, st.PurchaseRef, "plan-change-declined")
}

// The worker is killed after the processor took a change's charge and before anything else
// happened, and the API call that asked for it dies too; the API asked again (same request)
// finds each purchase once, on the new plan, charged once for the change.
func TestWorkerAndAPIKilledMidPlanChange(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 20
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, env := newFaultStack(t, ctx)
	child := startChildWorker(t, env)
	basic := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Basic", Price: 1000})
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 3000})
	refs := make([]string, n)
	parallel(t, n, func(i int) error {
		cus, _ := s.customer("4242424242424242")
		st, err := s.c.Start(ctx, starter.StartInput{MerchantRef: s.merchant, CustomerRef: cus.Ref, PlanRef: basic.Ref})
		refs[i] = st.PurchaseRef
		return err
	})
	child.kill(t)
	hung := startChildWorker(t, append(env, envHang+"=1")) // charges at the processor, then stops dead

	req := func(i int) starter.ChangePlanRequest {
		return starter.ChangePlanRequest{PlanRef: pro.Ref, RequestKey: "upgrade-" + refs[i]}
	}
	apiCtx, apiDies := context.WithCancel(ctx)
	var calls sync.WaitGroup
	for i := range refs {
		calls.Add(1)
		go func() { defer calls.Done(); _, _ = s.c.ChangePlan(apiCtx, s.merchant, refs[i], req(i)) }()
	}
	for deadline := time.Now().Add(time.Minute); countKeyed(t, s.sb, "/change-1/charge") < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the processor took %d of %d change charges\n%s", countKeyed(t, s.sb, "/change-1/charge"), n, hung.out.String())
		}
	}
	apiDies()
	hung.kill(t)
	calls.Wait()
	child = startChildWorker(t, env)

	parallel(t, n, func(i int) error {
		res, err := s.c.ChangePlan(ctx, s.merchant, refs[i], req(i))
		if err == nil && (res.Purchase.Plan.Ref != pro.Ref || res.Change == nil || res.Change.TxnRef == "") {
			t.Errorf("purchase %s after the retry: %+v", refs[i], res.Purchase)
		}
		return err
	})
	charges, err := s.sb.Charges(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, c := range charges {
		if c.Status == "succeeded" {
			keys[c.IdempotencyKey]++
		}
	}
	for _, ref := range refs {
		if keys[ref+"/period-1/charge"] != 1 || keys[ref+"/change-1/charge"] != 1 {
			t.Fatalf("purchase %s: charges %v", ref, keys)
		}
	}
	if len(charges) != 2*n {
		t.Fatalf("ledger: %d charges, want %d", len(charges), 2*n)
	}
	var purchases, onPro int
	if err := s.st.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE plan_id = $2) FROM purchases WHERE merchant_id = $1`,
		s.merchant, pro.Ref).Scan(&purchases, &onPro); err != nil || purchases != n {
		t.Fatalf("purchases: %v %d", err, purchases)
	}
	eventually(t, "every projection on Pro", func() bool {
		_ = s.st.Pool.QueryRow(ctx, `SELECT count(*) FROM purchases WHERE merchant_id = $1 AND plan_id = $2`, s.merchant, pro.Ref).Scan(&onPro)
		return onPro == n
	})
}

func countKeyed(t *testing.T, sb *sandbox.Processor, suffix string) int {
	charges, err := sb.Charges(context.Background(), "")
	if err != nil {
		t.Error(err)
	}
	k := 0
	for _, c := range charges {
		if strings.HasSuffix(c.IdempotencyKey, suffix) {
			k++
		}
	}
	return k
}

// A trial is granted once per customer and product: a change during it keeps its end, and a
// purchase bought again after it ended starts paid.
func TestTrialOncePerCustomerAndProduct(t *testing.T) {
	s := newStack(t)
	basic := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Basic", Price: 1000, TrialDays: 14})
	pro := s.plan(domain.Plan{Type: domain.PlanRecurring, Name: "Pro", Price: 3000, TrialDays: 30})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, basic)
	if st.Status != domain.PurchaseTrialing {
		t.Fatalf("first purchase: %+v", st)
	}
	res, err := s.c.ChangePlan(s.ctx, s.merchant, st.PurchaseRef, starter.ChangePlanRequest{PlanRef: pro.Ref})
	if err != nil || res.Purchase.Status != domain.PurchaseTrialing || !res.Purchase.TrialEnd.Equal(*st.TrialEnd) || res.Change.Total != 0 {
		t.Fatalf("a change during the trial: %v %+v", err, res.Purchase)
	}
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, st.PurchaseRef, ""); err != nil {
		t.Fatal(err)
	}
	if end := s.advance(st.PurchaseRef, st.TrialEnd.Add(time.Minute)); end.Status != domain.PurchaseCancelled {
		t.Fatalf("after the trial: %s", end.Status)
	}
	again := s.start(cus, basic)
	if again.Status != domain.PurchaseActive || again.TrialEnd != nil || again.PaidTotal != 1000 {
		t.Fatalf("bought again: %+v", again)
	}
	if ok, _ := s.ledger(st.PurchaseRef); len(ok) != 0 {
		t.Fatalf("the trial was charged: %+v", ok)
	}
}
