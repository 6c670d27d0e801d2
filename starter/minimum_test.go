package starter_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// A hybrid purchase whose charges fall below the processor's minimum (USD: 50 cents) plays out
// on the sandbox with the test clock: nothing below the minimum reaches the processor (the
// sandbox would refuse it, amount_too_small, and the purchase would wait instead of renewing),
// the purchase shows what it carries, and the ledgers hold exactly the one charge that reached
// the minimum.
func TestSmallChargesCarryToTheNextPeriodOnTheSandbox(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanHybrid, Price: 20, UnitPrice: 1, Meter: "api_requests"})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	p := s.projection(ref)
	if st.Status != domain.PurchaseActive || p.CarriedAmount != 20 || p.PaidTotal != 0 || p.DisplayStatus() != domain.PurchaseActive {
		t.Fatalf("activated: status %s, carried %d, paid %d", p.Status, p.CarriedAmount, p.PaidTotal)
	}
	if _, err := s.st.Pool.Exec(s.ctx, `INSERT INTO usage_counters (merchant_id, customer_id, product_id, meter_name,
		period_start, units) VALUES ($1,$2,$3,'api_requests',$4,10)`, s.merchant, cus.Ref, s.product.Ref, st.PeriodStart); err != nil {
		t.Fatal(err)
	}

	// period 1 ends: 20 carried + 20 price + 10 units = 50, the minimum: charged
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if p = s.projection(ref); st.Period != 2 || p.CarriedAmount != 0 || p.PaidTotal != 50 {
		t.Fatalf("period 2: carried %d, paid %d", p.CarriedAmount, p.PaidTotal)
	}
	// period 2 ends with no usage: 20, carried again
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if p = s.projection(ref); st.Period != 3 || p.CarriedAmount != 20 || p.PaidTotal != 50 || p.Status != domain.PurchaseActive {
		t.Fatalf("period 3: status %s, carried %d, paid %d", p.Status, p.CarriedAmount, p.PaidTotal)
	}
	// cancelled: the final bill (no usage, 20 carried) stays below the minimum and is never charged
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, ""); err != nil {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if p = s.projection(ref); p.Status != domain.PurchaseCancelled || p.CarriedAmount != 20 || p.PaidTotal != 50 {
		t.Fatalf("ended: status %s, carried %d, paid %d", p.Status, p.CarriedAmount, p.PaidTotal)
	}

	charges, failed := s.ledger(ref)
	if len(charges) != 1 || len(failed) != 0 || charges[0].Amount != 50 || charges[0].IdempotencyKey != ref+"/period-2/charge" {
		t.Fatalf("processor ledger: %+v, failed %+v", charges, failed)
	}
	txns, err := s.st.PurchaseTransactions(s.ctx, s.merchant, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) != 1 || txns[0].Amount != 50 || txns[0].Status != domain.TxnSucceeded || txns[0].Period != 2 {
		t.Fatalf("transactions: %+v", txns)
	}
	recordHistory(s, ref, "minimum-carried")
}

// Usage whose price overflows an int64 (2^33 units at 2^31+1 cents: unchecked, it wraps to a
// charge of 2^33 cents) is refused at the renewal: the price is charged, the overage is not, and
// the audit log says why.
func TestOverflowingOverageIsRefusedOnTheSandbox(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanHybrid, Price: 2000, UnitPrice: 1<<31 + 1, Meter: "api_requests"})
	cus, _ := s.customer("4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	if _, err := s.st.Pool.Exec(s.ctx, `INSERT INTO usage_counters (merchant_id, customer_id, product_id, meter_name,
		period_start, units) VALUES ($1,$2,$3,'api_requests',$4,$5)`, s.merchant, cus.Ref, s.product.Ref, st.PeriodStart, int64(1)<<33); err != nil {
		t.Fatal(err)
	}
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if st.Status != domain.PurchaseActive || st.Period != 2 || st.PaidTotal != 4000 {
		t.Fatalf("after the renewal: status %s, period %d, paid %d", st.Status, st.Period, st.PaidTotal)
	}
	charges, failed := s.ledger(ref)
	if len(charges) != 2 || len(failed) != 0 || charges[1].Amount != 2000 {
		t.Fatalf("processor ledger: %+v, failed %+v", charges, failed)
	}
	entries, err := s.st.ListAudit(s.ctx, s.merchant, ref)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range entries {
		if e.Action == "overage_refused" {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("audit: %+v", entries)
	}
	recordHistory(s, ref, "overage-refused")
}
