//go:build !fuzzonly

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/usage"
)

// usageEnv is an API server with one merchant whose product "support-bot" has a default plan.
type usageEnv struct {
	*env
	st       *store.Store
	merchant string
	customer domain.Customer
	product  string
	plan     string
}

// newUsageEnv builds the catalog straight in the store; plan is the default plan's fields.
func newUsageEnv(t *testing.T, plan domain.Plan) *usageEnv {
	t.Helper()
	ctx := context.Background()
	st := testenv.Postgres(t)
	merchant, key := testenv.Merchant(t, st, "Acme")
	hs := httptest.NewServer(api.New(api.Config{Store: st}))
	t.Cleanup(hs.Close)
	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "bob@startup.io", Name: "Bob", ExternalRef: "user_123"})
	if err != nil {
		t.Fatal(err)
	}
	prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: merchant, Name: "support-bot"})
	if err != nil {
		t.Fatal(err)
	}
	plan.MerchantRef, plan.ProductRef = merchant, prd.Ref
	if plan.Name == "" {
		plan.Name = "Free"
	}
	pln, err := st.CreatePlan(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	return &usageEnv{env: &env{t: t, srv: hs, key: key}, st: st, merchant: merchant, customer: c, product: prd.Ref, plan: pln.Ref}
}

func limit(n int64) *int64 { return &n }

// TestSeedUsageFlow replays seed 000's usage-based billing: record one API call, a batch, then
// "used 87 of 100 free requests, 13 remaining".
func TestSeedUsageFlow(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Type: domain.PlanFree, FreeUnits: 100, Limit: limit(100), Meter: "requests"})
	rec := u.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"actionType":"api_call","units":1,"outcome":"success"}`,
		u.customer.Ref, u.product))
	if !strings.HasPrefix(rec["reference"].(string), "usage_") || rec["meterName"] != "requests" || rec["duplicate"] != false {
		t.Fatalf("record: %v", rec)
	}
	// seed 001 spells the fields customerId and productReference; externalRef works too
	var events []string
	for i := range 86 {
		events = append(events, fmt.Sprintf(`{"customerId":"user_123","productReference":%q,"actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"batch-%d","timestamp":%q,"metadata":{"route":"/v1/chat"}}`,
			u.product, i, time.Now().Add(-time.Minute).Format(time.RFC3339)))
	}
	bulk := u.must(201, "POST", "/v1/usages/bulk", `{"events":[`+strings.Join(events, ",")+`]}`)
	if bulk["recorded"].(float64) != 86 || bulk["duplicates"].(float64) != 0 || len(bulk["data"].([]any)) != 86 {
		t.Fatalf("bulk: recorded %v duplicates %v", bulk["recorded"], bulk["duplicates"])
	}
	// the same batch again (a retried job) counts nothing, as a bare array
	again := u.must(201, "POST", "/v1/usages/bulk", `[`+strings.Join(events, ",")+`]`)
	if again["recorded"].(float64) != 0 || again["duplicates"].(float64) != 86 ||
		again["data"].([]any)[5].(map[string]any)["reference"] != bulk["data"].([]any)[5].(map[string]any)["reference"] {
		t.Fatalf("retried bulk: recorded %v duplicates %v", again["recorded"], again["duplicates"])
	}

	lim := u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":%q,"productRef":%q}`, u.customer.Ref, u.product))
	if lim["withinLimits"] != true || lim["used"].(float64) != 87 || lim["limit"].(float64) != 100 ||
		lim["remaining"].(float64) != 13 || lim["freeUnits"].(float64) != 100 || lim["meterName"] != "requests" ||
		lim["checkoutUrl"] != nil || lim["periodStart"] == nil || lim["periodEnd"] == nil {
		t.Fatalf("check_limits: %v", lim)
	}
	start, _ := time.Parse(time.RFC3339, lim["periodStart"].(string))
	if !start.Equal(usage.MonthStart(time.Now())) {
		t.Fatalf("period start %v", start)
	}
}

func TestUsageIdempotencyAndValidation(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Type: domain.PlanFree, FreeUnits: 100, Meter: "requests"})
	body := fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"actionType":"api_call","units":3,"idempotencyKey":"req-1"}`, u.product)
	first := u.must(201, "POST", "/v1/usages", body)
	second := u.must(200, "POST", "/v1/usages", body)
	if second["reference"] != first["reference"] || second["duplicate"] != true {
		t.Fatalf("retry: %v vs %v", second, first)
	}
	// the Idempotency-Key header doubles as the event's key when the body has none
	hdr := fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"units":2}`, u.product)
	a := u.must(201, "POST", "/v1/usages", hdr, "Idempotency-Key", "hdr-1")
	if a["idempotencyKey"] != "hdr-1" {
		t.Fatalf("header key: %v", a)
	}
	lim := u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerId":"user_123","productReference":%q}`, u.product))
	if lim["used"].(float64) != 5 {
		t.Fatalf("used %v", lim["used"])
	}

	bad := []struct{ body, code, field string }{
		{`{"productRef":"prd_x","units":1}`, "MISSING_FIELD", "customerRef"},
		{`{"customerRef":"user_123","units":-1}`, "INVALID_FIELD", "units"},
		{`{"customerRef":"user_123","customerId":"cus_other"}`, "INVALID_FIELD", "customerRef"},
		{`{"customerRef":"user_123","timestamp":"yesterday"}`, "INVALID_FIELD", "timestamp"},
		{`{"customerRef":"user_123","metadata":[1]}`, "INVALID_FIELD", "metadata"},
		{`{"customerRef":"user_123","meterName":"nope"}`, "INVALID_FIELD", "meterName"},
		{`{"customerRef":"user_123","unknown":1}`, "INVALID_FIELD", "unknown"},
		{`{"customerRef":"cus_nobody"}`, "RESOURCE_NOT_FOUND", "customerRef"},
		{`{"customerRef":"user_123","productRef":"prd_nothing"}`, "RESOURCE_NOT_FOUND", "productRef"},
		{`{"customerRef":"user_123","mode":"maybe"}`, "INVALID_FIELD", "mode"},
	}
	for _, b := range bad {
		status, out := u.do("POST", "/v1/usages", b.body)
		e, _ := out["error"].(map[string]any)
		if status/100 != 4 || e["code"] != b.code || e["field"] != b.field {
			t.Errorf("%s: %d %v", b.body, status, out)
		}
	}
	// a bad event refuses the whole batch and is named
	status, out := u.do("POST", "/v1/usages/bulk", fmt.Sprintf(`{"events":[{"customerRef":"user_123","units":1},{"customerRef":"user_123","units":1},{"customerRef":"cus_nobody","units":1}]}`))
	if e := out["error"].(map[string]any); status != 404 || e["field"] != "events[2].customerRef" {
		t.Fatalf("bulk refusal: %d %v", status, out)
	}
	status, out = u.do("POST", "/v1/usages/bulk", `{"events":[{"customerRef":"user_123","units":"one"}]}`)
	if status != 400 {
		t.Fatalf("bulk type error: %d %v", status, out)
	}
	many := strings.Repeat(`{"customerRef":"user_123"},`, usage.MaxBulkEvents+1)
	if status, _ := u.do("POST", "/v1/usages/bulk", `{"events":[`+strings.TrimSuffix(many, ",")+`]}`); status != 400 {
		t.Fatalf("over %d events: %d", usage.MaxBulkEvents, status)
	}
	lim = u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q}`, u.product))
	if lim["used"].(float64) != 5 {
		t.Fatalf("refused requests counted: %v", lim["used"])
	}
}

func TestMetersAndMapping(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Type: domain.PlanFree, FreeUnits: 10, Meter: "requests"})
	list := u.must(200, "GET", "/v1/meters", "")
	if list["total"].(float64) != 4 {
		t.Fatalf("default meters: %v", list)
	}
	u.must(201, "POST", "/v1/meters", `{"name":"pages","description":"rendered pages"}`)
	u.must(409, "POST", "/v1/meters", `{"name":"pages"}`)
	if m := u.must(200, "GET", "/v1/meters/pages", ""); m["name"] != "pages" {
		t.Fatalf("get meter: %v", m)
	}
	for action, want := range map[string]string{"pages": "pages", "tokens": "tokens", "tool:search": "tool:search", "api_call": "requests"} {
		rec := u.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"actionType":%q,"units":4}`, u.product, action))
		if rec["meterName"] != want {
			t.Errorf("actionType %s counted on %v, want %s", action, rec["meterName"], want)
		}
	}
	rec := u.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"actionType":"anything","meterName":"pages","units":1}`, u.product))
	if rec["meterName"] != "pages" {
		t.Fatalf("explicit meter: %v", rec)
	}
	lim := u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"meterName":"pages"}`, u.product))
	if lim["used"].(float64) != 5 || lim["meterName"] != "pages" {
		t.Fatalf("pages: %v", lim)
	}
	lim = u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"actionType":"tool:search"}`, u.product))
	if lim["used"].(float64) != 4 || lim["meterName"] != "tool:search" {
		t.Fatalf("tool meter: %v", lim)
	}
	u.must(204, "DELETE", "/v1/meters/pages", "")
}

func TestBlockedCheckHasCheckoutURL(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Name: "Pro", Type: domain.PlanRecurring, Price: 4900, BillingCycle: domain.CycleMonthly, FreeUnits: 2})
	body := fmt.Sprintf(`{"customerRef":"user_123","productRef":%q}`, u.product)
	if lim := u.must(200, "POST", "/v1/limits", body); lim["withinLimits"] != true || lim["remaining"].(float64) != 2 {
		t.Fatalf("free allowance: %v", lim)
	}
	u.must(201, "POST", "/v1/usages/bulk", fmt.Sprintf(`[{"customerRef":"user_123","productRef":%q},{"customerRef":"user_123","productRef":%q}]`, u.product, u.product))
	lim := u.must(200, "POST", "/v1/limits", body)
	url, _ := lim["checkoutUrl"].(string)
	if lim["withinLimits"] != false || lim["remaining"].(float64) != 0 || !strings.HasPrefix(url, u.srv.URL+"/checkout/cs_") || lim["reason"] != "limit_reached" {
		t.Fatalf("blocked: %v", lim)
	}
	if again := u.must(200, "POST", "/v1/limits", body); again["checkoutUrl"] != url {
		t.Fatalf("a second blocked check opened another session: %v vs %v", again["checkoutUrl"], url)
	}
	cs, err := u.st.GetCheckoutSession(context.Background(), url[strings.LastIndex(url, "/")+1:])
	if err != nil || cs.PlanRef != u.plan || cs.CustomerRef != u.customer.Ref {
		t.Fatalf("session: %v %+v", err, cs)
	}

	// a paying customer is governed by the purchase: a recurring plan without limits is unlimited
	now := time.Now().UTC()
	end := now.AddDate(0, 1, 0)
	if _, err := u.st.UpsertPurchase(context.Background(), domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: u.merchant,
		CustomerRef: u.customer.Ref, ProductRef: u.product, PlanRef: u.plan, Status: domain.PurchaseActive, Currency: "USD",
		PlanType: domain.PlanRecurring, CurrentPeriodStart: &now, CurrentPeriodEnd: &end, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	lim = u.must(200, "POST", "/v1/limits", body)
	if lim["withinLimits"] != true || lim["used"].(float64) != 0 || lim["purchaseRef"] == nil || lim["limit"].(float64) != 2 {
		t.Fatalf("purchase: %v", lim)
	}
}

// TestConsumeAdmitsExactlyTheLimit races 50 clients for the last 10 units.
func TestConsumeAdmitsExactlyTheLimit(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Type: domain.PlanFree, FreeUnits: 100, Limit: limit(100), Meter: "requests"})
	u.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"units":90}`, u.product))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, out := u.do("POST", "/v1/usages", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"units":1,"mode":"consume","idempotencyKey":"race-%d"}`, u.product, i))
			if status == http.StatusPaymentRequired {
				if e := out["error"].(map[string]any); e["code"] != "PAYMENT_REQUIRED" || !strings.Contains(out["checkoutUrl"].(string), "/checkout/cs_") {
					t.Errorf("refusal: %v", out)
				}
			}
			mu.Lock()
			codes[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[201] != 10 || codes[402] != 40 {
		t.Fatalf("answers: %v", codes)
	}
	lim := u.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q}`, u.product))
	if lim["used"].(float64) != 100 || lim["withinLimits"] != false {
		t.Fatalf("after the race: %v", lim)
	}
	// an admitted key retried at the limit answers the original, and consumes nothing
	var admitted string
	if err := u.st.Pool.QueryRow(context.Background(), `SELECT idempotency_key FROM usage_events WHERE idempotency_key LIKE 'race-%' LIMIT 1`).Scan(&admitted); err != nil {
		t.Fatal(err)
	}
	u.must(200, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":"user_123","productRef":%q,"units":1,"mode":"consume","idempotencyKey":%q}`, u.product, admitted))
}

func TestUsageIsTenantScoped(t *testing.T) {
	u := newUsageEnv(t, domain.Plan{Type: domain.PlanFree, FreeUnits: 10})
	_, keyB := testenv.Merchant(t, u.st, "Beta")
	b := &env{t: t, srv: u.srv, key: keyB}
	if status, _ := b.do("POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q}`, u.customer.Ref)); status != 404 {
		t.Fatalf("B recorded on A's customer: %d", status)
	}
	if status, _ := b.do("POST", "/v1/limits", fmt.Sprintf(`{"customerRef":%q,"productRef":%q}`, u.customer.Ref, u.product)); status != 404 {
		t.Fatalf("B checked A's customer: %d", status)
	}
}
