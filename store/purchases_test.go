package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// catalog creates a merchant with a customer, a product and a monthly plan.
func catalog(t *testing.T, st *store.Store) (merchant string, c domain.Customer, prd domain.Product, pln domain.Plan) {
	t.Helper()
	ctx := context.Background()
	merchant, _ = testenv.Merchant(t, st, "M")
	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "c@x.io"})
	if err != nil {
		t.Fatal(err)
	}
	prd, err = st.CreateProduct(ctx, domain.Product{MerchantRef: merchant, Name: "API"})
	if err != nil {
		t.Fatal(err)
	}
	pln, err = st.CreatePlan(ctx, domain.Plan{MerchantRef: merchant, ProductRef: prd.Ref, Name: "Pro", Type: domain.PlanRecurring, Price: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return merchant, c, prd, pln
}

func TestPurchaseProjectionNeverMovesBackwards(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, c, prd, pln := catalog(t, st)
	other, _ := testenv.Merchant(t, st, "Other")
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref,
		Status: domain.PurchasePending, Currency: "USD", Seq: 1}
	if ok, err := st.UpsertPurchase(ctx, p); err != nil || !ok {
		t.Fatalf("insert: %v %v", ok, err)
	}
	p.Status, p.Seq, p.Period, p.CurrentPeriodStart = domain.PurchaseActive, 3, 1, &now
	if ok, err := st.UpsertPurchase(ctx, p); err != nil || !ok {
		t.Fatalf("newer: %v %v", ok, err)
	}
	late := p
	late.Status, late.Seq = domain.PurchasePending, 2
	if ok, err := st.UpsertPurchase(ctx, late); err != nil || ok {
		t.Fatalf("older write applied: %v %v", ok, err)
	}
	if ok, _ := st.UpsertPurchase(ctx, p); ok {
		t.Fatal("a repeated write (same seq) applied twice")
	}
	got, err := st.GetPurchase(ctx, m, p.Ref)
	if err != nil || got.Status != domain.PurchaseActive || got.Seq != 3 || !got.CurrentPeriodStart.Equal(now) {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, err := st.GetPurchase(ctx, other, p.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("other merchant: %v", err)
	}
	if live, err := st.LivePurchase(ctx, m, c.Ref, prd.Ref); err != nil || live.Ref != p.Ref {
		t.Fatalf("live: %v", err)
	}

	// one live purchase per customer and product: a second one is refused, and a claim answers
	// the live one
	p2 := p
	p2.Ref, p2.Seq, p2.CancelledAt = domain.NewRef("pur"), 1, &now
	if _, err := st.UpsertPurchase(ctx, p2); err == nil {
		t.Fatal("a second live purchase of the product was stored")
	}
	if owner, err := st.ClaimPurchase(ctx, p2); err != nil || owner.Ref != p.Ref {
		t.Fatalf("claim beside a live purchase: %v %s, want %s", err, owner.Ref, p.Ref)
	}
	ended := p
	ended.Status, ended.Seq, ended.EndedAt = domain.PurchaseExpired, 4, &now
	if _, err := st.UpsertPurchase(ctx, ended); err != nil {
		t.Fatal(err)
	}
	if owner, err := st.ClaimPurchase(ctx, p2); err != nil || owner.Ref != p2.Ref || owner.Status != domain.PurchasePending {
		t.Fatalf("claim once the first ended: %v %+v", err, owner)
	}
	p2.Status, p2.Seq = domain.PurchaseActive, 1 // the workflow's first write replaces the claim
	if ok, err := st.UpsertPurchase(ctx, p2); err != nil || !ok {
		t.Fatalf("first write of the claimed purchase: %v %v", ok, err)
	}
	for status, want := range map[domain.PurchaseStatus]int{"": 2, domain.PurchaseActive: 1,
		domain.PurchasePendingCancellation: 1, domain.PurchaseExpired: 1} {
		_, total, err := st.ListPurchases(ctx, m, store.PurchaseFilter{Status: status, CustomerRef: c.Ref}, store.Page{Page: 1, Limit: 10})
		if err != nil || total != want {
			t.Errorf("status %q: %v total %d want %d", status, err, total, want)
		}
	}
}

func TestTransactionsAreIdempotentByKey(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, c, prd, pln := catalog(t, st)
	pur := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: c.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref,
		Status: domain.PurchaseActive, Currency: "USD", Seq: 1}
	if _, err := st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	pay := domain.Transaction{MerchantRef: m, Kind: domain.TxnPayment, Status: domain.TxnSucceeded, Amount: 1000, Currency: "USD",
		PurchaseRef: pur.Ref, CustomerRef: c.Ref, ProductRef: prd.Ref, Period: 1, IdempotencyKey: pur.Ref + "/period-1/charge"}
	first, created, err := st.InsertTransaction(ctx, pay)
	if err != nil || !created || !domain.HasPrefix(first.Ref, "txn") {
		t.Fatalf("insert: %v %v %+v", err, created, first)
	}
	again, created, err := st.InsertTransaction(ctx, pay)
	if err != nil || created || again.Ref != first.Ref {
		t.Fatalf("second insert with the same key: %v %v %s vs %s", err, created, again.Ref, first.Ref)
	}
	failed := pay
	failed.Status, failed.FailureCode, failed.IdempotencyKey = domain.TxnFailed, "card_declined", pur.Ref+"/period-2/charge"
	if _, _, err := st.InsertTransaction(ctx, failed); err != nil {
		t.Fatal(err)
	}
	refund := domain.Transaction{MerchantRef: m, Kind: domain.TxnRefund, Status: domain.TxnSucceeded, Amount: 300, Currency: "USD",
		PurchaseRef: pur.Ref, CustomerRef: c.Ref, ProductRef: prd.Ref, SourceRef: first.Ref, IdempotencyKey: "refund-req-1"}
	if _, _, err := st.InsertTransaction(ctx, refund); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetTransaction(ctx, m, first.Ref)
	if err != nil || got.RefundedAmount != 300 {
		t.Fatalf("refunded amount: %v %+v", err, got)
	}
	stats, err := st.TransactionStats(ctx, m, store.TransactionFilter{From: time.Now().Add(-time.Hour)})
	if err != nil || stats.Total != 3 || stats.Successful != 1 || stats.Failed != 1 || stats.Refunded != 1 ||
		len(stats.Currencies) != 1 || stats.Currencies[0].Net != 700 {
		t.Fatalf("stats: %v %+v", err, stats)
	}
	list, total, err := st.ListTransactions(ctx, m, store.TransactionFilter{Status: domain.TxnFailed}, store.Page{Page: 1, Limit: 10})
	if err != nil || total != 1 || list[0].FailureCode != "card_declined" {
		t.Fatalf("failed list: %v %d", err, total)
	}
	if _, total, _ := st.ListTransactions(ctx, m, store.TransactionFilter{To: time.Now().Add(-time.Hour)}, store.Page{Page: 1, Limit: 10}); total != 0 {
		t.Fatalf("date range: %d", total)
	}
	bal, err := st.ProductBalance(ctx, m, prd.Ref)
	if err != nil || bal.Payments != 1 || bal.Currencies[0].Revenue != 1000 || bal.Currencies[0].Net != 700 {
		t.Fatalf("balance: %v %+v", err, bal)
	}

	e := store.AuditEntry{MerchantRef: m, ObjectType: "purchase", ObjectRef: pur.Ref, Action: "activate",
		FromStatus: "pending", ToStatus: "active", Seq: 2, Data: json.RawMessage(`{"period":1}`)}
	for i := 0; i < 2; i++ { // a retried activity writes once
		if err := st.InsertAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := st.ListAudit(ctx, m, pur.Ref)
	if err != nil || len(entries) != 1 || entries[0].ToStatus != "active" {
		t.Fatalf("audit: %v %+v", err, entries)
	}
}
