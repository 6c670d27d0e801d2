package starter_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A monthly purchase lives 13 periods through the test clock: exactly 13 charges in the
// processor's ledger and in Postgres, one per period, across a continue-as-new.
func TestThirteenMonthlyPeriods(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1999})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	if st.Status != domain.PurchaseActive || st.Period != 1 {
		t.Fatalf("activated: %+v", st)
	}
	ref := st.PurchaseRef
	for i := 0; i < 12; i++ {
		st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	}
	st, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.Period != 13 || st.Status != domain.PurchaseActive || st.Runs < 2 || st.PaidTotal != 13*1999 {
		t.Fatalf("after 12 renewals: period %d status %s runs %d paid %d", st.Period, st.Status, st.Runs, st.PaidTotal)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 13 || len(failed) != 0 {
		t.Fatalf("ledger: %d charges, %d failed", len(ok), len(failed))
	}
	var keys []string
	for _, c := range ok {
		keys = append(keys, c.IdempotencyKey)
	}
	for n := 1; n <= 13; n++ {
		if !slices.Contains(keys, ref+"/period-"+strconv.Itoa(n)+"/charge") {
			t.Fatalf("no charge for period %d: %v", n, keys)
		}
	}
	txns, _, err := s.st.ListTransactions(s.ctx, s.merchant, store.TransactionFilter{PurchaseRef: ref}, store.Page{Page: 1, Limit: 50})
	if err != nil || len(txns) != 13 {
		t.Fatalf("transactions: %v %d", err, len(txns))
	}
	eventually(t, "the projection of period 13", func() bool { return s.projection(ref).Period == 13 })
	if p := s.projection(ref); p.PaidTotal != 13*1999 || p.CurrentPeriodEnd == nil || !p.CurrentPeriodEnd.Equal(st.PeriodEnd) {
		t.Fatalf("projection: %+v", p)
	}
	s.invoicesMatchLedger(ref)
	recordHistory(s, ref, "thirteen-periods")
}

// A card that starts failing: past_due at the renewal, suspended when the grace period ends,
// expired when the last retry fails — on the merchant's schedule.
func TestFailingCardPastDueSuspendedExpired(t *testing.T) {
	s := newStack(t)
	if _, err := s.st.Pool.Exec(s.ctx, `UPDATE merchants SET dunning_retry_days = '{1,3,5}', grace_period_days = 2 WHERE id = $1`,
		s.merchant); err != nil {
		t.Fatal(err)
	}
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, pm := s.customer("pm_card_visa")
	st := s.start(cus, plan)
	ref, renewal := st.PurchaseRef, st.PeriodEnd
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourFailsAfterAttach); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Duration
		want domain.PurchaseStatus
	}{
		{time.Minute, domain.PurchasePastDue},
		{24*time.Hour + time.Minute, domain.PurchasePastDue}, // retry 1 failed
		{2*24*time.Hour + time.Minute, domain.PurchaseSuspended},
		{3*24*time.Hour + time.Minute, domain.PurchaseSuspended}, // retry 2 failed
		{5*24*time.Hour + time.Minute, domain.PurchaseExpired},   // retry 3 failed: out of retries
	}
	for _, step := range steps {
		st = s.advance(ref, renewal.Add(step.at))
		if st.Status != step.want {
			t.Fatalf("at renewal+%s: %s, want %s", step.at, st.Status, step.want)
		}
		eventually(t, "projection "+string(step.want), func() bool { return s.projection(ref).Status == step.want })
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 1 || len(failed) != 4 {
		t.Fatalf("ledger: %d ok, %d failed", len(ok), len(failed))
	}
	want := []string{"pending", "active", "past_due", "suspended", "expired"}
	if got := s.transitions(ref); !slices.Equal(got, want) {
		t.Fatalf("audit: %v", got)
	}
	failedTxns, _, _ := s.st.ListTransactions(s.ctx, s.merchant, store.TransactionFilter{PurchaseRef: ref, Status: domain.TxnFailed},
		store.Page{Page: 1, Limit: 10})
	if len(failedTxns) != 4 || failedTxns[0].FailureCode == "" {
		t.Fatalf("failed transactions: %+v", failedTxns)
	}
	if p := s.projection(ref); p.EndedAt == nil || !p.EndedAt.Equal(renewal.AddDate(0, 0, 5)) {
		t.Fatalf("ended: %+v", p.EndedAt)
	}
	s.invoicesMatchLedger(ref)
	recordHistory(s, ref, "dunning-expired")
}

// Another purchase recovers when the customer's card is updated mid-dunning.
func TestRecoveryWhenTheCardIsUpdated(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, pm := s.customer("pm_card_visa")
	st := s.start(cus, plan)
	ref, renewal := st.PurchaseRef, st.PeriodEnd
	if err := s.sb.SetCardBehaviour(s.ctx, pm, sandbox.BehaviourFailsAfterAttach); err != nil {
		t.Fatal(err)
	}
	if st = s.advance(ref, renewal.Add(25*time.Hour)); st.Status != domain.PurchasePastDue {
		t.Fatalf("status %s", st.Status)
	}
	if _, err := s.c.RetryPayment(s.ctx, s.merchant, ref); domain.ErrorCode(err) != domain.CodePaymentRequired {
		t.Fatalf("retry with the failing card: %v", err)
	}
	s.setCard(cus.Ref, "4242424242424242")
	states, err := s.c.PaymentMethodUpdated(s.ctx, s.merchant, cus.Ref)
	if err != nil || len(states) != 1 || states[0].Status != domain.PurchaseActive {
		t.Fatalf("after card update: %v %+v", err, states)
	}
	ok, failed := s.ledger(ref)
	if len(ok) != 2 || len(failed) != 3 || ok[1].IdempotencyKey != ref+"/period-2/retry-3" {
		t.Fatalf("ledger: %+v / %d failed", ok, len(failed))
	}
	// the recovered period keeps its schedule: the next renewal is a month after the failed one
	if st = s.advance(ref, renewal.AddDate(0, 1, 0).Add(time.Minute)); st.Status != domain.PurchaseActive || st.Period != 3 {
		t.Fatalf("next renewal: %s period %d", st.Status, st.Period)
	}
	s.invoicesMatchLedger(ref) // three invoices (activation, the recovered retry, period 3), no number for the 3 declines
	recordHistory(s, ref, "dunning-recovered")
}

// An operator's plain Temporal client (as the Temporal UI does) sends cancel-renewal: the
// projection and the PurchaseStatus search attribute show pending cancellation.
func TestPlainClientCancelSignal(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	cus, _ := s.customer("4242424242424242")
	ref := s.start(cus, plan).PurchaseRef
	if err := s.tc.SignalWorkflow(s.ctx, workflows.WorkflowID(ref), "", "cancel-renewal",
		map[string]string{"Reason": "from the UI"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pending cancellation", func() bool {
		return s.projection(ref).DisplayStatus() == domain.PurchasePendingCancellation
	})
	if p := s.projection(ref); p.CancelReason != "from the UI" {
		t.Fatalf("projection: %+v", p)
	}
	list, total, err := s.st.ListPurchases(s.ctx, s.merchant, store.PurchaseFilter{Status: domain.PurchasePendingCancellation},
		store.Page{Page: 1, Limit: 10})
	if err != nil || total != 1 || list[0].Ref != ref {
		t.Fatalf("filter: %v %d", err, total)
	}
	eventually(t, "the search attribute", func() bool {
		resp, err := s.tc.ListWorkflow(s.ctx, listRequest(`PurchaseStatus = "pending_cancellation" AND CustomerRef = "`+cus.Ref+`"`))
		return err == nil && len(resp.Executions) == 1
	})
	recordHistory(s, ref, "cancel-signal")
}

// A usage-based purchase bills its overage from the usage counters at each period end, and is
// cancelled at the end of the period in which renewal was cancelled.
func TestUsageBasedPurchaseBillsFromCounters(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanUsageBased, UnitPrice: 3, FreeUnits: 100, Meter: "api_requests"})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	if st.Status != domain.PurchaseActive || st.PaidTotal != 0 {
		t.Fatalf("activated at zero: %+v", st)
	}
	ref := st.PurchaseRef
	bump := func(start time.Time, units int64) {
		if _, err := s.st.Pool.Exec(s.ctx, `INSERT INTO usage_counters (merchant_id, customer_id, product_id, meter_name,
			period_start, units) VALUES ($1,$2,$3,'api_requests',$4,$5)`, s.merchant, cus.Ref, s.product.Ref, start, units); err != nil {
			t.Fatal(err)
		}
	}
	bump(st.PeriodStart, 400)
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Period != 2 || st.PaidTotal != 300*3 {
		t.Fatalf("after period 1: period %d paid %d", st.Period, st.PaidTotal)
	}
	bump(st.PeriodStart, 150)
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, ""); err != nil {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Status != domain.PurchaseCancelled || st.PaidTotal != 300*3+50*3 {
		t.Fatalf("status %s, paid %d (the last period's overage is billed at cancellation)", st.Status, st.PaidTotal)
	}
	ok, _ := s.ledger(ref)
	if len(ok) != 2 || ok[1].IdempotencyKey != ref+"/period-2/final-usage" {
		t.Fatalf("ledger: %+v", ok)
	}
	// usage-cancelled-run1.json was recorded before changeFinalUsage; this one after it
	recordHistory(s, ref, "usage-final-usage")
}
