//go:build !fuzzonly

package api_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// world is an API server with the sandbox processor and two merchants, A (the env's key) and B.
type world struct {
	*env
	st        *store.Store
	srv       *api.Server
	merchant  string
	merchantB string
	keyB      string
	tc        client.Client // with purchase workflows (newLifecycleWorld)
}

func newWorld(t *testing.T, configure ...func(*api.Config)) *world {
	t.Helper()
	st := testenv.Postgres(t)
	a, keyA := testenv.Merchant(t, st, "Acme")
	b, keyB := testenv.Merchant(t, st, "Beta")
	cfg := api.Config{Store: st, Payments: sandbox.New(st.Pool)}
	for _, c := range configure {
		c(&cfg)
	}
	srv := api.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &world{env: &env{t: t, srv: hs, key: keyA}, st: st, srv: srv, merchant: a, merchantB: b, keyB: keyB}
}

// as returns an env speaking with merchant B's key on the same server.
func (w *world) asB() *env { return &env{t: w.t, srv: w.env.srv, key: w.keyB} }

// must fails the test unless status is want, and returns the body.
func (e *env) must(want int, method, path, body string, headers ...string) map[string]any {
	e.t.Helper()
	status, out := e.do(method, path, body, headers...)
	if status != want {
		e.t.Fatalf("%s %s %s: %d %v (want %d)", method, path, body, status, out, want)
	}
	return out
}

// fixture is one merchant's catalog, customer and money, built partly through the API and
// partly (purchases, transactions) straight into the projection, as the workflows would.
type fixture struct {
	customer, product, plan, purchase, payment, refund string
	invoice, creditNote                                string // the payment's and the refund's documents
}

func (w *world) fixture(e *env, merchant, email string) fixture {
	w.t.Helper()
	ctx := context.Background()
	var f fixture
	f.customer = e.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
	f.product = e.must(201, "POST", "/v1/products", `{"name":"support-bot","description":"Customer support automation"}`)["reference"].(string)
	f.plan = e.must(201, "POST", "/v1/products/"+f.product+"/plans",
		`{"name":"Pro","type":"recurring","price":4900,"currency":"USD","billingCycle":"monthly"}`)["reference"].(string)
	now := time.Now().UTC()
	end := now.AddDate(0, 1, 0)
	f.purchase = domain.NewRef(domain.PrefixPurchase)
	if _, err := w.st.UpsertPurchase(ctx, domain.Purchase{Ref: f.purchase, MerchantRef: merchant, CustomerRef: f.customer,
		ProductRef: f.product, PlanRef: f.plan, Status: domain.PurchaseActive, PlanName: "Pro", PlanType: domain.PlanRecurring,
		Amount: 4900, Currency: "USD", BillingCycle: domain.CycleMonthly, StartedAt: &now, CurrentPeriodStart: &now,
		CurrentPeriodEnd: &end, NextBillingAt: &end, Period: 1, PaidTotal: 4900, Sandbox: true, Seq: 1}); err != nil {
		w.t.Fatal(err)
	}
	// the payment as the sandbox made it, so the sandbox-only routes find it in its ledger
	charge, err := sandbox.New(w.st.Pool).Charge(ctx, payments.ChargeInput{IdempotencyKey: f.purchase + "/period-1/charge",
		ProcessorCustomerID: "cus_sb_" + f.customer, PaymentMethod: "pm_card_visa", Amount: 4900, Currency: "USD"})
	if err != nil {
		w.t.Fatal(err)
	}
	pay, _, err := w.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: 4900, Currency: "USD", PurchaseRef: f.purchase, CustomerRef: f.customer,
		ProductRef: f.product, Period: 1, IdempotencyKey: f.purchase + "/period-1/charge", Processor: "sandbox",
		ProcessorRef: charge.ProcessorRef})
	if err != nil {
		w.t.Fatal(err)
	}
	f.payment = pay.Ref
	ref, _, err := w.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: merchant, Kind: domain.TxnRefund,
		Status: domain.TxnSucceeded, Amount: 2500, Currency: "USD", PurchaseRef: f.purchase, CustomerRef: f.customer,
		ProductRef: f.product, SourceRef: pay.Ref, Reason: "Double charge", IdempotencyKey: "refund/" + pay.Ref + "/1",
		Processor: "sandbox"})
	if err != nil {
		w.t.Fatal(err)
	}
	f.refund = ref.Ref
	if _, _, err := w.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: merchant, Kind: domain.TxnPayment,
		Status: domain.TxnFailed, Amount: 4900, Currency: "USD", PurchaseRef: f.purchase, CustomerRef: f.customer,
		ProductRef: f.product, Period: 2, FailureCode: "card_declined", IdempotencyKey: f.purchase + "/period-2/charge"}); err != nil {
		w.t.Fatal(err)
	}
	docs := store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: f.purchase}
	invoices, _, err := w.st.ListInvoices(ctx, merchant, docs, store.Page{Page: 1, Limit: 10})
	if err != nil || len(invoices) != 1 {
		w.t.Fatalf("invoices of %s: %v %+v", f.purchase, err, invoices)
	}
	notes, _, err := w.st.ListCreditNotes(ctx, merchant, docs, store.Page{Page: 1, Limit: 10})
	if err != nil || len(notes) != 1 {
		w.t.Fatalf("credit notes of %s: %v %+v", f.purchase, err, notes)
	}
	f.invoice, f.creditNote = invoices[0].Ref, notes[0].Ref
	return f
}

// errField is the field named by an error answer.
func errField(body map[string]any) any {
	e, _ := body["error"].(map[string]any)
	return e["field"]
}

func errCode(body map[string]any) any {
	e, _ := body["error"].(map[string]any)
	return e["code"]
}

// raw sends a request with contentType (none when empty) and answers the status and the raw body.
func (e *env) raw(method, path, body, contentType string) (int, string) {
	e.t.Helper()
	var headers []string
	if contentType != "" {
		headers = []string{"Content-Type", contentType}
	}
	status, out := e.send(method, path, body, headers...)
	return status, string(out)
}

// rowCounts counts the rows of every table, to prove bad input changed nothing.
func (w *world) rowCounts() map[string]int {
	w.t.Helper()
	ctx := context.Background()
	rows, err := w.st.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`)
	if err != nil {
		w.t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := w.st.Pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{tb}.Sanitize()).Scan(&n); err != nil {
			w.t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}
