package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// TestFullRunLogsCarryNoKeys runs `tollgate api` and `tollgate worker` with debug logging and a
// Stripe key (stripe-mock), drives a customer, a card, a purchase, a bad key and an MCP call
// through them, and greps everything they logged for the keys.
func TestFullRunLogsCarryNoKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the API and the worker against Postgres, Temporal and stripe-mock")
	}
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	merchant, key := testenv.Merchant(t, st, "Acme")
	liveKey := domain.NewSecretRef("sk_live") // its card and purchase go to Stripe; the sandbox key's never do
	if err := st.AddAPIKey(ctx, merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	st.Close()
	const stripeKey, wrongKey = "sk_test_logsKeyV8k", "sk_sandbox_wrongKeyH5t"
	env := map[string]string{"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": testenv.TemporalAddress(t),
		"STRIPE_SECRET_KEY": stripeKey, "STRIPE_PUBLISHABLE_KEY": "pk_test_TYooMQauvdEDq54NiTphI7jx",
		"STRIPE_API_URL": testenv.StripeMock(t), "LOG_LEVEL": "debug", "TOLLGATE_WEB_SECRET": "web-secret-logs-J6c"}
	base, logs, stop := runAPIAndWorker(t, env)

	call := func(method, path, k, body string) map[string]any {
		s, b := httpJSON(t, method, base+path, k, body)
		t.Logf("%s %s: %d %v", method, path, s, b)
		return b
	}
	prd, _ := call("POST", "/v1/products", key, `{"name":"support-bot"}`)["reference"].(string)
	pln, _ := call("POST", "/v1/products/"+prd+"/plans", key, `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	for email, k := range map[string]string{"jane@acme.com": key, "lee@acme.com": liveKey} {
		cus, _ := call("POST", "/v1/sdk/customers", k, `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
		call("POST", "/v1/customers/"+cus+"/payment-method", k, `{"paymentMethod":"pm_card_visa"}`)
		call("POST", "/v1/activate-plan", k, `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
	}
	call("POST", "/v1/refunds", key, `{"sourceTransactionRef":"txn_nope","amount":100}`)
	call("GET", "/v1/customers", wrongKey, "")
	req, _ := http.NewRequest("POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_customers","arguments":{}}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	stop()

	text := logs.String()
	if !strings.Contains(text, `"level":"DEBUG"`) || !strings.Contains(text, "API listening") { // JSON lines: the servers' default
		t.Fatalf("the run logged too little to judge:\n%s", text)
	}
	for name, secret := range map[string]string{"API key": key, "live API key": liveKey, "wrong API key": wrongKey, "Stripe key": stripeKey,
		"web secret": env["TOLLGATE_WEB_SECRET"]} {
		if strings.Contains(text, secret) {
			t.Errorf("the logs carry the %s:\n%s", name, text)
		}
	}
}

// runAPIAndWorker runs `tollgate api` and `tollgate worker` in this process on env (plus
// TOLLGATE_ADDR, a free port), both logging to logs, until stop; it answers once /readyz does.
func runAPIAndWorker(t *testing.T, env map[string]string) (base string, logs *testenv.LogBuffer, stop func()) {
	t.Helper()
	port, _ := devenv.FreePort()
	env["TOLLGATE_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	logs = &testenv.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, sub := range []string{"api", "worker"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx, []string{sub}, func(k string) string { return env[k] }, io.Discard, logs); err != nil {
				t.Errorf("tollgate %s: %v", sub, err)
			}
		}()
	}
	stop = func() { cancel(); wg.Wait() }
	base = "http://" + env["TOLLGATE_ADDR"]
	if err := waitHTTP(ctx, base+"/readyz", 30*time.Second); err != nil {
		stop()
		t.Fatalf("%v\n%s", err, logs)
	}
	return base, logs, stop
}
