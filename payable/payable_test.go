package payable_test

import (
	"context"
	"encoding/json"
	"errors"
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

// signedIn stands in for the merchant's own authentication: a bearer token per user, the user
// being the customer's externalRef.
func signedIn(users map[string]string) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		if user, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
			return user, nil
		}
		return "", errors.New("not signed in")
	}
}

var users = map[string]string{"tok-123": "user_123", "tok-ghost": "ghost_999"}

// call sends one request as the user of token ("" for none), plus any header name/value pairs.
func call(t *testing.T, h http.Handler, token string, header ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/tasks", strings.NewReader(`{}`))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	pw := &payable.Paywall{Client: client, Product: product, Customer: signedIn(users), OnError: func(error) { recordErrs.Add(1) }}
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
	// A client naming a customer in seed 003's header is not signed in as that customer.
	if code, _ := call(t, h, "", payable.CustomerHeader, "user_123"); code != http.StatusUnauthorized || ran.Load() != 0 {
		t.Fatalf("customer header without sign-in: %d, handler ran %d times", code, ran.Load())
	}
	if code, body := call(t, h, "tok-123"); code != 200 || body != `{"ok":true}` {
		t.Fatalf("first call: %d %s", code, body)
	}
	fail = true // a failed call is recorded with outcome error and does not count
	if code, _ := call(t, h, "tok-123"); code != 500 {
		t.Fatalf("failing handler: %d", code)
	}
	fail = false
	if code, _ := call(t, h, "tok-123"); code != 200 {
		t.Fatalf("second counted call: %d", code)
	}
	code, body := call(t, h, "tok-123")
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
}

func TestPaywallWhenTollgateIsDown(t *testing.T) {
	client, _, product, srv := tollgate(t)
	srv.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ran")) })
	closed := &payable.Paywall{Client: client, Product: product, Customer: signedIn(users)}
	if code, _ := call(t, closed.Handler(ok), "tok-123"); code != http.StatusServiceUnavailable {
		t.Fatalf("fail closed: %d", code)
	}
	var lost atomic.Int32
	open := &payable.Paywall{Client: client, Product: product, Customer: signedIn(users), FailOpen: true, OnError: func(error) { lost.Add(1) }}
	if code, body := call(t, open.Handler(ok), "tok-123"); code != 200 || body != "ran" || lost.Load() != 1 {
		t.Fatalf("fail open: %d %s, %d lost", code, body, lost.Load())
	}
}

// Without a way to resolve the customer from the merchant's own authentication, a paywall is
// refused when it is built, not run trusting whatever customer a client names.
func TestPaywallNeedsACustomerResolver(t *testing.T) {
	client, _, product, _ := tollgate(t)
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "Paywall.Customer is required") {
			t.Fatalf("panic = %q, want one naming Paywall.Customer", msg)
		}
	}()
	h := (&payable.Paywall{Client: client, Product: product}).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	code, body := call(t, h, "", payable.CustomerHeader, "user_123")
	t.Fatalf("a paywall without a resolver answered %d %s", code, body)
}

// An unknown customer reads exactly like a blocked one, so a caller cannot find out which
// customer references exist; in the header mode, nobody gets a checkout link for a customer
// they merely named.
func TestPaywallUnknownAndBlockedCustomersLookAlike(t *testing.T) {
	client, st, product, _ := tollgate(t)
	ctx := context.Background()
	// user_123 spends its two free calls and is blocked.
	for range 2 {
		if _, err := client.TrackUsage(ctx, payable.Usage{CustomerRef: "user_123", ProductRef: product, Units: 1, Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ran")) })

	var unknown atomic.Int32
	header := &payable.Paywall{Client: client, Product: product, UnsafeCustomerHeader: payable.CustomerHeader,
		OnError: func(error) { unknown.Add(1) }}
	blockedCode, blockedBody := call(t, header.Handler(ok), "", payable.CustomerHeader, "user_123")
	unknownCode, unknownBody := call(t, header.Handler(ok), "", payable.CustomerHeader, "ghost_999")
	if blockedCode != http.StatusPaymentRequired || unknownCode != blockedCode || unknownBody != blockedBody {
		t.Fatalf("header mode: blocked %d %s, unknown %d %s", blockedCode, blockedBody, unknownCode, unknownBody)
	}
	if strings.Contains(blockedBody, "checkout") || unknown.Load() != 1 {
		t.Errorf("header mode: a checkout link for a named customer, or the unknown one unreported (%d): %s", unknown.Load(), blockedBody)
	}

	// Signed in, the blocked customer gets its own checkout link; an unknown one the same answer without it.
	pw := &payable.Paywall{Client: client, Product: product, Customer: signedIn(users)}
	blockedCode, blockedBody = call(t, pw.Handler(ok), "tok-123")
	unknownCode, unknownBody = call(t, pw.Handler(ok), "tok-ghost")
	var blocked, ghost payable.PaywallError
	_ = json.Unmarshal([]byte(blockedBody), &blocked)
	_ = json.Unmarshal([]byte(unknownBody), &ghost)
	if blockedCode != http.StatusPaymentRequired || unknownCode != blockedCode || blocked.CheckoutURL == "" ||
		ghost != (payable.PaywallError{Error: blocked.Error, Message: blocked.Message}) {
		t.Fatalf("signed in: blocked %d %s, unknown %d %s", blockedCode, blockedBody, unknownCode, unknownBody)
	}
	var events int
	st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events`).Scan(&events)
	if events != 2 {
		t.Errorf("%d usage events, want the 2 spent before", events)
	}
}
