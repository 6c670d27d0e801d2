package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// The refunds of a payment never add up to more than it, however many are asked at once: through
// ReserveRefund (the refund activity's way, before any money moves) and through any other
// insert (the refunds_within_payment trigger).
func TestRefundsNeverExceedThePayment(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, c, prd, pln := catalog(t, st)
	pur := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref,
		Status: domain.PurchaseCancelled, Currency: "USD", Seq: 1}
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	pay := func(key string) domain.Transaction {
		t.Helper()
		p, _, err := st.InsertTransaction(ctx, domain.Transaction{MerchantRef: m, Kind: domain.TxnPayment, Status: domain.TxnSucceeded,
			Amount: 1000, Currency: "USD", PurchaseRef: pur.Ref, CustomerRef: c.Ref, ProductRef: prd.Ref, Period: 1, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	reserve := func(payment string, key string, amount int64) (domain.Transaction, error) {
		r, _, err := st.ReserveRefund(ctx, store.RefundReservation{MerchantRef: m, PurchaseRef: pur.Ref, PaymentRef: payment,
			Amount: amount, IdempotencyKey: key, Processor: "sandbox"})
		return r, err
	}

	// ten refunds of 300 at once, each under its own key: three fit
	p1 := pay(pur.Ref + "/period-1/charge")
	made := tenAtOnce(func(i int) error { _, err := reserve(p1.Ref, fmt.Sprintf("r-%d", i), 300); return err })
	if len(made) != 3 {
		t.Fatalf("reserved %d refunds of 300 of a payment of 1000", len(made))
	}
	// the same key again is the same refund; another key for more than is left is refused
	again, err := reserve(p1.Ref, fmt.Sprintf("r-%d", made[0]), 300)
	if err != nil || again.Status != domain.TxnPending {
		t.Fatalf("a reservation asked again: %v %+v", err, again)
	}
	if _, err := reserve(p1.Ref, "r-more", 101); domain.AsError(err) == nil || domain.AsError(err).Field != "amount" {
		t.Fatalf("101 more than the 100 left: %v", err)
	}
	// a refund the processor refused is released; a settled one counts once on the purchase
	r, err := reserve(p1.Ref, "r-rest", 0)
	if err != nil || r.Amount != 100 {
		t.Fatalf("the rest: %v %+v", err, r)
	}
	if err := st.ReleaseRefund(ctx, m, r.Ref); err != nil {
		t.Fatal(err)
	}
	settled := fmt.Sprintf("r-%d", made[0])
	first, _ := st.TransactionByKey(ctx, m, settled)
	for range 2 { // a retried activity settles twice
		if _, err := st.SettleRefund(ctx, m, first.Ref, "re_1", &store.AuditEntry{Action: "refund", Actor: "workflow"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := st.GetTransaction(ctx, m, p1.Ref); got.RefundedAmount != 300 {
		t.Fatalf("refunded of the payment: %+v", got)
	}
	if got, _ := st.GetPurchase(ctx, m, pur.Ref); got.RefundedTotal != 300 {
		t.Fatalf("refunded total of the purchase: %d", got.RefundedTotal)
	}
	if entries, _ := st.ListAudit(ctx, m, pur.Ref); len(entries) != 1 || entries[0].Action != "refund" {
		t.Fatalf("audit: %+v", entries)
	}
	if _, err := reserve(p1.Ref, "r-rest", 0); err != nil {
		t.Fatalf("the released amount refunds again: %v", err)
	}

	// any other writer: ten succeeded refunds of 300 inserted at once, three fit
	p2 := pay(pur.Ref + "/period-2/charge")
	made = tenAtOnce(func(i int) error {
		_, _, err := st.InsertTransaction(ctx, domain.Transaction{MerchantRef: m, Kind: domain.TxnRefund, Status: domain.TxnSucceeded,
			Amount: 300, Currency: "USD", PurchaseRef: pur.Ref, SourceRef: p2.Ref, IdempotencyKey: fmt.Sprintf("direct-%d", i),
			OccurredAt: time.Now()})
		return err
	})
	if got, _ := st.GetTransaction(ctx, m, p2.Ref); len(made) != 3 || got.RefundedAmount != 900 {
		t.Fatalf("%d direct refunds of 300 recorded, %d refunded", len(made), got.RefundedAmount)
	}
}

// tenAtOnce runs fn for 0..9 at once and answers the i that succeeded.
func tenAtOnce(fn func(i int) error) []int {
	var mu sync.Mutex
	var ok []int
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if fn(i) == nil {
				mu.Lock()
				ok = append(ok, i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}
