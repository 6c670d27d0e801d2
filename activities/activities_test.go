package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	ctx   context.Context
	st    *store.Store
	sb    *sandbox.Processor
	a     *activities.Activities
	m     string
	cus   domain.Customer
	prd   domain.Product
	pur   string
	card  string
	terms string // digest of the purchase's recorded terms
}

func newFixture(t *testing.T, card string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{ctx: ctx, st: testenv.Postgres(t)}
	f.sb = sandbox.New(f.st.Pool)
	f.a = &activities.Activities{Store: f.st, Payments: f.sb}
	f.m, _ = testenv.Merchant(t, f.st, "M")
	var err error
	if f.cus, err = f.st.CreateCustomer(ctx, domain.Customer{MerchantRef: f.m}); err != nil {
		t.Fatal(err)
	}
	if f.prd, err = f.st.CreateProduct(ctx, domain.Product{MerchantRef: f.m, Name: "P"}); err != nil {
		t.Fatal(err)
	}
	pln, err := f.st.CreatePlan(ctx, domain.Plan{MerchantRef: f.m, ProductRef: f.prd.Ref, Name: "x", Type: domain.PlanRecurring, Price: 100})
	if err != nil {
		t.Fatal(err)
	}
	f.pur = domain.NewRef("pur")
	terms := workflows.NewTerms(workflows.PurchaseInput{PurchaseRef: f.pur, MerchantRef: f.m, CustomerRef: f.cus.Ref, Plan: pln})
	f.terms = terms.Digest()
	if err := f.st.RecordGrant(ctx, store.Grant{MerchantRef: f.m, PurchaseRef: f.pur, Kind: store.GrantTerms, Key: f.terms,
		Detail: mustJSON(t, terms)}); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Project(ctx, workflows.ProjectInput{MerchantRef: f.m, Seq: 1, Terms: f.terms, Purchase: domain.Purchase{Ref: f.pur,
		CustomerRef: f.cus.Ref, ProductRef: f.prd.Ref, PlanRef: pln.Ref, Status: domain.PurchasePending, Currency: "USD"},
		Audit: &workflows.AuditInput{Action: "create", ToStatus: "pending"}}); err != nil {
		t.Fatal(err)
	}
	if card != "" {
		if _, err := testenv.AttachCard(ctx, f.st, f.sb, f.m, f.cus.Ref, card); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) charge(key string) workflows.ChargeInput {
	return workflows.ChargeInput{MerchantRef: f.m, PurchaseRef: f.pur, CustomerRef: f.cus.Ref, ProductRef: f.prd.Ref,
		Period: 1, Amount: 100, Currency: "USD", IdempotencyKey: key, Terms: f.terms}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refund is a refund of payment as the starter records it and the workflow then asks for it.
func (f *fixture) refund(t *testing.T, payment workflows.ChargeResult, key string, amount int64, record bool) workflows.RefundPaymentInput {
	t.Helper()
	req := workflows.RefundInput{RequestKey: key, Amount: amount}
	if record {
		if err := f.st.RecordGrant(f.ctx, store.Grant{MerchantRef: f.m, PurchaseRef: f.pur, Kind: store.GrantRefund,
			Key: workflows.RefundGrantKey(key, "", amount), Detail: mustJSON(t, req)}); err != nil {
			t.Fatal(err)
		}
	}
	return workflows.RefundPaymentInput{MerchantRef: f.m, PurchaseRef: f.pur, CustomerRef: f.cus.Ref, ProductRef: f.prd.Ref,
		SourceTxnRef: payment.TxnRef, ChargeRef: payment.ProcessorRef, Amount: amount, Currency: "USD",
		IdempotencyKey: f.pur + "/refund/" + key, Terms: f.terms, Request: req}
}

func TestChargeIsExactlyOnceByKey(t *testing.T) {
	f := newFixture(t, "pm_card_visa")
	first, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge")) // a retried activity
	if err != nil || again != first {
		t.Fatalf("retry: %v %+v vs %+v", err, again, first)
	}
	if ledger, _ := f.sb.Charges(f.ctx, f.pur+"/"); len(ledger) != 1 {
		t.Fatalf("processor charged %d times", len(ledger))
	}
	txn, err := f.st.GetTransaction(f.ctx, f.m, first.TxnRef)
	if err != nil || txn.Status != domain.TxnSucceeded || txn.Processor != "sandbox" {
		t.Fatalf("txn: %v %+v", err, txn)
	}
	ref, err := f.a.RefundPayment(f.ctx, f.refund(t, first, "r1", 40, true))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.st.GetTransaction(f.ctx, f.m, first.TxnRef); got.RefundedAmount != 40 || ref.TxnRef == "" {
		t.Fatalf("refund: %+v", got)
	}
}

func TestDeclinesAreNamedNonRetryableErrors(t *testing.T) {
	for _, c := range []struct{ card, typ string }{
		{"4000000000000341", workflows.ErrTypeCardDeclined},
		{"", workflows.ErrTypePaymentMethodMissing},
	} {
		f := newFixture(t, c.card)
		_, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge"))
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != c.typ {
			t.Fatalf("card %q: %v", c.card, err)
		}
		var failure workflows.ChargeFailure
		if err := app.Details(&failure); err != nil || failure.TxnRef == "" || failure.Code == "" {
			t.Fatalf("details: %v %+v", err, failure)
		}
		txn, _ := f.st.GetTransaction(f.ctx, f.m, failure.TxnRef)
		if txn.Status != domain.TxnFailed || txn.FailureCode != failure.Code {
			t.Fatalf("failed transaction: %+v", txn)
		}
	}
}

func TestProjectionIgnoresOlderWrites(t *testing.T) {
	f := newFixture(t, "")
	p, _ := f.st.GetPurchase(f.ctx, f.m, f.pur)
	p.Status = domain.PurchaseActive
	if err := f.a.Project(f.ctx, workflows.ProjectInput{MerchantRef: f.m, Seq: 3, Purchase: p, Terms: f.terms,
		Audit: &workflows.AuditInput{Action: "activate", FromStatus: "pending", ToStatus: "active"}}); err != nil {
		t.Fatal(err)
	}
	p.Status = domain.PurchasePending
	if err := f.a.Project(f.ctx, workflows.ProjectInput{MerchantRef: f.m, Seq: 2, Purchase: p, Terms: f.terms}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.st.GetPurchase(f.ctx, f.m, f.pur); got.Status != domain.PurchaseActive || got.Seq != 3 {
		t.Fatalf("projection moved backwards: %+v", got)
	}
	if entries, _ := f.st.ListAudit(f.ctx, f.m, f.pur); len(entries) != 2 {
		t.Fatalf("audit: %+v", entries)
	}
}

// TestUnrecordedMovesAreRefused: a charge, refund or projection under terms, for a customer or of
// a request the API never recorded is refused for good, moves no money, records nothing as a
// transaction or a purchase state, and leaves an audit row.
func TestUnrecordedMovesAreRefused(t *testing.T) {
	f := newFixture(t, "pm_card_visa")
	forged := f.charge(f.pur + "/period-1/charge")
	forged.Terms = workflows.NewTerms(workflows.PurchaseInput{PurchaseRef: f.pur, MerchantRef: f.m, CustomerRef: f.cus.Ref,
		Plan: domain.Plan{Ref: "pln_forged", Price: 1_000_000, Currency: "USD"}}).Digest()
	other, err := f.st.CreateCustomer(f.ctx, domain.Customer{MerchantRef: f.m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.AttachCard(f.ctx, f.st, f.sb, f.m, other.Ref, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	otherCustomer := f.charge(f.pur + "/period-1/charge")
	otherCustomer.CustomerRef = other.Ref
	for name, in := range map[string]workflows.ChargeInput{"forged terms": forged, "another customer": otherCustomer} {
		_, err := f.a.Charge(f.ctx, in)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != workflows.ErrTypeNotRecorded {
			t.Fatalf("%s: charge answered %v", name, err)
		}
	}
	if ledger, _ := f.sb.Charges(f.ctx, f.pur+"/"); len(ledger) != 0 {
		t.Fatalf("the processor was charged: %+v", ledger)
	}
	if txns, n, _ := f.st.ListTransactions(f.ctx, f.m, store.TransactionFilter{}, store.Page{Page: 1, Limit: 10}); n != 0 {
		t.Fatalf("transactions recorded: %+v", txns)
	}

	paid, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.a.RefundPayment(f.ctx, f.refund(t, paid, "never-asked", 100, false))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != workflows.ErrTypeNotRecorded {
		t.Fatalf("unrequested refund answered %v", err)
	}
	if refunds, _ := f.sb.Refunds(f.ctx, f.pur+"/"); len(refunds) != 0 {
		t.Fatalf("the processor refunded: %+v", refunds)
	}
	p, _ := f.st.GetPurchase(f.ctx, f.m, f.pur)
	p.Status, p.TrialEnd = domain.PurchaseTrialing, &p.UpdatedAt
	err = f.a.Project(f.ctx, workflows.ProjectInput{MerchantRef: f.m, Seq: 9, Purchase: p, Terms: forged.Terms})
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != workflows.ErrTypeNotRecorded {
		t.Fatalf("projection under forged terms answered %v", err)
	}
	if got, _ := f.st.GetPurchase(f.ctx, f.m, f.pur); got.Status != domain.PurchasePending {
		t.Fatalf("forged projection written: %s", got.Status)
	}
	entries, _ := f.st.ListAudit(f.ctx, f.m, f.pur)
	var refused []string
	for _, e := range entries {
		if strings.HasSuffix(e.Action, "_refused") {
			refused = append(refused, e.Action)
		}
	}
	if strings.Join(refused, ",") != "charge_refused,charge_refused,refund_refused,projection_refused" {
		t.Fatalf("audit rows of refusals: %v", refused)
	}
}

// The processor charges, then answers 500, and has forgotten the key by the next attempt (as
// Stripe does after 24 hours): the next attempt looks the charge up by key and adopts it.
// Exactly one charge at the processor, recorded once, with the processor's own id.
func TestChargeAfterServerErrorAdoptsTheChargeMade(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	pm, _, _ := f.st.CustomerPaymentTarget(f.ctx, f.m, f.cus.Ref)
	if err := f.sb.SetCardBehaviour(f.ctx, pm, sandbox.BehaviourServerErrorAfterCharge); err != nil {
		t.Fatal(err)
	}
	f.sb.KeyWindow = time.Nanosecond
	in := f.charge(f.pur + "/period-1/charge")
	_, err := f.a.Charge(f.ctx, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != workflows.ErrTypeChargeUnknown {
		t.Fatalf("a 500 after charging is an unknown outcome, retried: %v", err)
	}
	if txns, _ := f.st.TransactionByKey(f.ctx, f.m, in.IdempotencyKey); txns.Ref != "" {
		t.Fatalf("nothing is recorded before the outcome is known: %+v", txns)
	}
	in.LookUpFirst = true // the next attempt
	res, err := f.a.Charge(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ledger, _ := f.sb.Charges(f.ctx, f.pur+"/")
	if len(ledger) != 1 || ledger[0].Status != "succeeded" || res.ProcessorRef != ledger[0].ID {
		t.Fatalf("processor ledger %+v, result %+v", ledger, res)
	}
	txn, err := f.st.TransactionByKey(f.ctx, f.m, in.IdempotencyKey)
	if err != nil || txn.Ref != res.TxnRef || txn.ProcessorRef != ledger[0].ID || txn.Status != domain.TxnSucceeded {
		t.Fatalf("recorded %+v %v", txn, err)
	}
}

// A key rejected by the processor or a malformed request is ours to fix: retried, and never
// recorded as the customer's failed payment.
func TestOurFaultsAreNotDeclines(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	in := f.charge(f.pur + "/period-1/charge")
	in.Currency = "US" // the processor refuses the request: invalid_request
	_, err := f.a.Charge(f.ctx, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != workflows.ErrTypeProcessorFault {
		t.Fatalf("want a retryable processor fault, got %v", err)
	}
	if txn, _ := f.st.TransactionByKey(f.ctx, f.m, in.IdempotencyKey); txn.Ref != "" {
		t.Fatalf("a fault of ours recorded as a failed payment: %+v", txn)
	}
}

// The card chosen for a charge is the card charged on every attempt, even after the customer
// changed the default: no idempotency mismatch.
func TestChargeKeepsItsCardAfterACardChange(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	first, _, _ := f.st.CustomerPaymentTarget(f.ctx, f.m, f.cus.Ref)
	in := f.charge(f.pur + "/period-1/charge")
	in.PaymentMethod = first
	if _, err := f.a.Charge(f.ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.AttachCard(f.ctx, f.st, f.sb, f.m, f.cus.Ref, "5555555555554444"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Charge(f.ctx, in); err != nil {
		t.Fatalf("a retry after a card change: %v", err)
	}
	if ledger, _ := f.sb.Charges(f.ctx, f.pur+"/"); len(ledger) != 1 || ledger[0].PaymentMethod != first {
		t.Fatalf("ledger %+v", ledger)
	}
}

// A sandbox purchase charges the sandbox even on a worker whose own processor is Stripe: the
// mode recorded with the purchase's terms decides, and no request reaches Stripe.
func TestSandboxPurchasesNeverReachARealProcessor(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	var hits atomic.Int64
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`))
	}))
	defer real.Close()
	f.a.Payments = stripe.New(stripe.Config{SecretKey: "sk_live_x", BackendURL: real.URL, MaxNetworkRetries: new(int64)})
	f.a.Sandbox = f.sb
	in := f.charge(f.pur + "/period-1/charge")
	in.Terms = f.sandboxTerms(t)
	res, err := f.a.Charge(f.ctx, in)
	if err != nil || hits.Load() != 0 {
		t.Fatalf("sandbox charge: %v, %d requests to the real processor", err, hits.Load())
	}
	if ledger, _ := f.sb.Charges(f.ctx, f.pur+"/"); len(ledger) != 1 || ledger[0].ID != res.ProcessorRef {
		t.Fatalf("sandbox ledger %+v", ledger)
	}
	if _, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-2/charge")); err == nil || hits.Load() == 0 {
		t.Fatalf("a live purchase goes to the live processor: %v, %d requests", err, hits.Load())
	}
}

// A live purchase on a worker without a live processor (no Stripe key) is a configuration
// fault, retried and never a decline: its money is never settled in the sandbox. The same
// worker charges sandbox purchases in the sandbox.
func TestLivePurchasesNeverSettleInTheSandbox(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	f.a = activities.New(f.st, processors.Split(f.sb, f.st.Pool))
	_, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge"))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != workflows.ErrTypeProcessorFault ||
		!strings.Contains(app.Error(), "STRIPE_SECRET_KEY") {
		t.Fatalf("a live charge on a sandbox-only worker: %v", err)
	}
	if ledger, _ := f.sb.Charges(f.ctx, f.pur+"/"); len(ledger) != 0 {
		t.Fatalf("a live purchase reached the sandbox: %+v", ledger)
	}
	if txns, _ := f.st.PurchaseTransactions(f.ctx, f.m, f.pur); len(txns) != 0 {
		t.Fatalf("a configuration fault recorded as a transaction: %+v", txns)
	}
	in := f.charge(f.pur + "/period-2/charge")
	in.Terms = f.sandboxTerms(t)
	if res, err := f.a.Charge(f.ctx, in); err != nil || res.ProcessorRef == "" {
		t.Fatalf("a sandbox charge on the same worker: %+v %v", res, err)
	}
}

// sandboxTerms records the purchase's terms as a sandbox purchase's and answers their digest.
func (f *fixture) sandboxTerms(t *testing.T) string {
	t.Helper()
	var terms workflows.Terms
	g, _, _ := f.st.FindGrant(f.ctx, f.pur, store.GrantTerms, f.terms)
	_ = json.Unmarshal(g.Detail, &terms)
	terms.Sandbox = true
	if err := f.st.RecordGrant(f.ctx, store.Grant{MerchantRef: f.m, PurchaseRef: f.pur, Kind: store.GrantTerms,
		Key: terms.Digest(), Detail: mustJSON(t, terms)}); err != nil {
		t.Fatal(err)
	}
	return terms.Digest()
}
