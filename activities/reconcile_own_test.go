package activities_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/workflows"
)

// A merchant's own Stripe account is reconciled as a processor of its own, with its own key:
// its payments are listed there, and its ledger rows are looked up there and no longer in the
// deployment's account.
func TestReconcileReadsEachMerchantsOwnAccount(t *testing.T) {
	f := newFixture(t, "")
	backend, seen := testenv.StripeProxy(t)
	const deployment, own = "sk_test_deployment0000", "sk_test_merchant0000own"
	accounts := &processors.Accounts{Store: f.st, Keys: testenv.Keyring(t, testenv.EncryptionKey()), BackendURL: backend}
	f.a.Payments = stripe.New(stripe.Config{SecretKey: deployment, BackendURL: backend})
	f.a.Sandbox, f.a.Accounts = f.sb, accounts

	// A live payment of the merchant's in the ledger, charged at Stripe.
	pay, _, err := f.st.AdoptTransaction(f.ctx, domain.Transaction{MerchantRef: f.m, Kind: domain.TxnPayment, Status: domain.TxnSucceeded,
		Amount: 100, Currency: "USD", PurchaseRef: f.pur, CustomerRef: f.cus.Ref, ProductRef: f.prd.Ref, Period: 1,
		IdempotencyKey: f.pur + "/period-1/charge", Processor: "stripe", ProcessorRef: "pi_ownaccount1"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Hour)
	ledger := func(processor string) (workflows.ReconcileLedgerResult, []string) {
		t.Helper()
		before := len(seen.List())
		res, err := f.a.ReconcileLedger(f.ctx, workflows.ReconcileLedgerInput{Processor: processor, Since: since, RunAt: time.Now()})
		if err != nil {
			t.Fatalf("ledger of %s: %v", processor, err)
		}
		var keys []string
		for _, r := range seen.List()[before:] {
			if r.Call == "GET /v1/payment_intents/"+pay.ProcessorRef {
				keys = append(keys, r.Key)
			}
		}
		return res, keys
	}

	// Without its own account, the deployment's run holds its row.
	if names, err := f.a.ReconcileProcessors(f.ctx); err != nil || !slices.Equal(names, []string{"sandbox", "stripe"}) {
		t.Fatalf("processors: %v, %v", names, err)
	}
	if res, keys := ledger("stripe"); res.Checked != 1 || res.Found != 1 || !slices.Equal(keys, []string{deployment}) {
		t.Fatalf("deployment's run: %+v, looked up with %v", res, keys)
	}

	if _, err := accounts.Set(f.ctx, f.m, processors.StripeSettings{SecretKey: own, PublishableKey: "pk_test_merchant0000pub"}); err != nil {
		t.Fatal(err)
	}
	account := "stripe:" + f.m
	if names, err := f.a.ReconcileProcessors(f.ctx); err != nil || !slices.Equal(names, []string{"sandbox", "stripe", account}) {
		t.Fatalf("processors with the merchant's own account: %v, %v", names, err)
	}
	before := len(seen.List())
	if _, err := f.a.ReconcilePage(f.ctx, workflows.ReconcilePageInput{Processor: account, Since: since, RunAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	listed := slices.IndexFunc(seen.List()[before:], func(r testenv.StripeRequest) bool {
		return r.Call == "GET /v1/payment_intents" && r.Key == own
	})
	if listed < 0 {
		t.Errorf("the merchant's account was not listed with its key: %+v", seen.List()[before:])
	}
	if res, keys := ledger("stripe"); res.Checked != 0 || len(keys) != 0 {
		t.Errorf("the deployment's run still checks the merchant's row: %+v, %v", res, keys)
	}
	if res, keys := ledger(account); res.Checked != 1 || res.Found != 1 || !slices.Equal(keys, []string{own}) {
		t.Errorf("the merchant's run: %+v, looked up with %v", res, keys)
	}

	// A worker that cannot open the merchant's keys leaves its account out, and runs the rest.
	f.a.Accounts = &processors.Accounts{Store: f.st, Keys: testenv.Keyring(t, testenv.EncryptionKey()), BackendURL: backend}
	if names, err := f.a.ReconcileProcessors(f.ctx); err != nil || !slices.Equal(names, []string{"sandbox", "stripe"}) {
		t.Errorf("processors when its keys cannot be opened: %v, %v", names, err)
	}
}
