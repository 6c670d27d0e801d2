package payable_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payable"
	"github.com/tollgate-billing/tollgate/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// tollgate runs the real API on a fresh database: a customer user_123 and a product whose
// default plan gives 2 free calls, then asks for a purchase.
func tollgate(t *testing.T) (*payable.Client, *store.Store, string, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	st := testenv.Postgres(t)
	merchant, key := testenv.Merchant(t, st, "Acme")
	if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "u@x.io", ExternalRef: "user_123"}); err != nil {
		t.Fatal(err)
	}
	prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: merchant, Name: "tasks-api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: merchant, ProductRef: prd.Ref, Name: "Pro", Type: domain.PlanRecurring,
		Price: 4900, BillingCycle: domain.CycleMonthly, FreeUnits: 2}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	t.Cleanup(srv.Close)
	return payable.NewClient(srv.URL, key), st, prd.Ref, srv
}

func call(t *testing.T, h http.Handler, customer string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/tasks", strings.NewReader(`{}`))
	if customer != "" {
		req.Header.Set(payable.CustomerHeader, customer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestPaywallFlow(t *testing.T) {
	client, st, product, srv := tollgate(t)
	var ran atomic.Int32
	var recordErrs atomic.Int32
	fail := false
	pw := &payable.Paywall{Client: client, Product: product, OnError: func(error) { recordErrs.Add(1) }}
	h := pw.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})

	if code, _ := call(t, h, ""); code != http.StatusUnauthorized {
		t.Fatalf("no customer: %d", code)
	}
	if code, body := call(t, h, "user_123"); code != 200 || body != `{"ok":true}` {
		t.Fatalf("first call: %d %s", code, body)
	}
	fail = true // a failed call is recorded with outcome error and does not count
	if code, _ := call(t, h, "user_123"); code != 500 {
		t.Fatalf("failing handler: %d", code)
	}
	fail = false
	if code, _ := call(t, h, "user_123"); code != 200 {
		t.Fatalf("second counted call: %d", code)
	}
	code, body := call(t, h, "user_123")
	var pe payable.PaywallError
	if err := json.Unmarshal([]byte(body), &pe); err != nil || code != http.StatusPaymentRequired || pe.Error != "PaywallError" ||
		pe.Message != "Purchase required" || !strings.HasPrefix(pe.CheckoutURL, srv.URL+"/checkout/cs_") {
		t.Fatalf("blocked: %d %s", code, body)
	}
	if ran.Load() != 3 || recordErrs.Load() != 0 {
		t.Fatalf("handler ran %d times, %d record errors", ran.Load(), recordErrs.Load())
	}
	var events, failed int
	st.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE outcome = 'error') FROM usage_events`).Scan(&events, &failed)
	if events != 3 || failed != 1 {
		t.Fatalf("events %d, failed %d", events, failed)
	}
	lim, err := client.CheckLimits(context.Background(), payable.LimitsRequest{CustomerRef: "user_123", ProductRef: product})
	if err != nil || lim.Used != 2 || lim.WithinLimits || *lim.Remaining != 0 {
		t.Fatalf("limits: %v %+v", err, lim)
	}
	if code, _ := call(t, h, "someone_else"); code != http.StatusForbidden {
		t.Fatalf("unknown customer: %d", code)
	}
}

func TestPaywallWhenTollgateIsDown(t *testing.T) {
	client, _, product, srv := tollgate(t)
	srv.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ran")) })
	closed := &payable.Paywall{Client: client, Product: product}
	if code, _ := call(t, closed.Handler(ok), "user_123"); code != http.StatusServiceUnavailable {
		t.Fatalf("fail closed: %d", code)
	}
	var lost atomic.Int32
	open := &payable.Paywall{Client: client, Product: product, FailOpen: true, OnError: func(error) { lost.Add(1) }}
	if code, body := call(t, open.Handler(ok), "user_123"); code != 200 || body != "ran" || lost.Load() != 1 {
		t.Fatalf("fail open: %d %s, %d lost", code, body, lost.Load())
	}
}
