package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/mcp"
)

// designTools is DESIGN.md's list of MCP tools.
var designTools = []string{"create_customer", "ensure_customer", "get_customer", "list_customers", "update_customer",
	"delete_customer", "create_product", "get_product", "list_products", "update_product", "delete_product", "create_plan",
	"get_plan", "list_plans", "update_plan", "delete_plan", "activate_plan", "list_purchases", "get_purchase",
	"get_purchases_by_customer", "get_purchases_by_product", "cancel_renewal", "reactivate_renewal",
	"preview_plan_change", "change_plan", "cancel_scheduled_change", "pause_purchase", "resume_purchase", "check_limits",
	"record_usage", "record_bulk_usage", "create_checkout_session", "create_customer_session", "list_transactions",
	"get_transaction", "get_transaction_stats", "get_product_balance", "create_refund", "list_events",
	"list_webhook_endpoints", "create_webhook_endpoint", "list_invoices", "get_invoice", "void_invoice", "list_tax_rates",
	"create_tax_rate"}

// Every tool of the list, each with an object schema, required fields marked, descriptions, and
// seed 001's spellings accepted beside seed 000's.
func TestToolList(t *testing.T) {
	server := mcp.New(mcp.Config{})
	st, ct := sdk.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tools := map[string]*sdk.Tool{}
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		tools[tl.Name] = tl
		if len(tl.Description) < 20 || tl.Title == "" || tl.Annotations == nil {
			t.Errorf("%s: description %q, title %q", tl.Name, tl.Description, tl.Title)
		}
		var schema struct {
			Type       string                    `json:"type"`
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		}
		b, _ := json.Marshal(tl.InputSchema)
		if err := json.Unmarshal(b, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: input schema %s", tl.Name, b)
		}
		for name, p := range schema.Properties {
			if d, _ := p["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", tl.Name, name)
			}
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s requires %s, which it does not list", tl.Name, r)
			}
		}
	}
	slices.Sort(names)
	want := slices.Clone(designTools)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("tools:\n got %v\nwant %v", names, want)
	}
	required := func(tool string) []string {
		b, _ := json.Marshal(tools[tool].InputSchema)
		var s struct{ Required []string }
		_ = json.Unmarshal(b, &s)
		return s.Required
	}
	props := func(tool string) string {
		b, _ := json.Marshal(tools[tool].InputSchema)
		return string(b)
	}
	for tool, want := range map[string][]string{
		"create_customer": {"email"}, "ensure_customer": {"email"}, "create_product": {"name"},
		"get_product_balance": {"productRef"}, "get_purchases_by_customer": {"customerRef"},
		"cancel_renewal": {"purchaseRef"}, "create_checkout_session": {"customerRef", "productRef"},
		"create_refund": {"sourceTransactionRef"}, "record_usage": {"customerRef"}, "check_limits": {"customerRef", "productRef"},
		"record_bulk_usage": {"events"}, "create_customer_session": {"customerRef"},
		"pause_purchase": {"purchaseRef", "behavior"}, "resume_purchase": {"purchaseRef"},
		"create_webhook_endpoint": {"url"},
	} {
		if got := required(tool); !slices.Equal(got, want) {
			t.Errorf("%s requires %v, want %v", tool, got, want)
		}
	}
	for tool, spellings := range map[string][]string{
		"cancel_renewal": {"purchaseRef", "purchaseId"}, "create_refund": {"sourceTransactionRef", "sourceTransactionId"},
		"record_usage": {"customerRef", "customerId", "productRef", "productReference"},
		"check_limits": {"customerId", "productReference"}, "record_bulk_usage": {"customerId", "productReference"},
	} {
		for _, s := range spellings {
			if !strings.Contains(props(tool), `"`+s+`"`) {
				t.Errorf("%s does not accept %s", tool, s)
			}
		}
	}
}

// Failures are tool errors with the API's code, message and field: never a protocol error, a
// crash or a stack.
func TestErrorsAreToolErrors(t *testing.T) {
	w := newWorld(t)
	cs := w.inMemory(w.key)
	fails(t, cs, "get_customer", map[string]any{"customerRef": "cus_nobody"}, "RESOURCE_NOT_FOUND")
	if e := fails(t, cs, "create_customer", map[string]any{"name": "No Email"}, "MISSING_FIELD"); e["field"] != "email" {
		t.Fatalf("field: %v", e)
	}
	if e := fails(t, cs, "create_customer", map[string]any{"email": "not-an-email"}, "INVALID_FIELD"); e["field"] != "email" || e["status"] != float64(400) {
		t.Fatalf("the API's refusal: %v", e)
	}
	ok(t, cs, "create_customer", map[string]any{"email": "jane@acme.com"})
	fails(t, cs, "create_customer", map[string]any{"email": "jane@acme.com"}, "RESOURCE_ALREADY_EXISTS")
	if e := fails(t, cs, "create_customer", map[string]any{"email": "x@acme.com", "customer_ref": "x"}, "INVALID_FIELD"); e["field"] != "customer_ref" {
		t.Fatalf("unknown parameter: %v", e)
	}
	if e := fails(t, cs, "create_refund", map[string]any{"sourceTransactionRef": "txn_1", "amount": "25 dollars"}, "INVALID_FIELD"); e["field"] != "amount" {
		t.Fatalf("bad amount: %v", e)
	}
	fails(t, cs, "cancel_renewal", map[string]any{"purchaseRef": "pur_1", "purchaseId": "pur_2"}, "INVALID_FIELD")
	if e := fails(t, cs, "check_limits", map[string]any{"productRef": "prd_1"}, "MISSING_FIELD"); e["field"] != "customerRef" {
		t.Fatalf("missing alias pair: %v", e)
	}
	fails(t, cs, "get_customer", map[string]any{"customerRef": ".."}, "INVALID_FIELD")
	fails(t, cs, "record_bulk_usage", map[string]any{"events": []any{map[string]any{"units": 1}}}, "MISSING_FIELD")

	// The API out of reach (`tollgate mcp` started before the server): a tool error that says so.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	down := w.connectServer(mcp.New(mcp.Config{Caller: mcp.HTTP{BaseURL: dead, APIKey: w.key}}))
	e := fails(t, down, "list_customers", nil, "SERVICE_UNAVAILABLE")
	if !strings.Contains(e["message"].(string), dead) {
		t.Fatalf("unreachable API: %v", e)
	}
}

// The stdio server's caller: the same tools over the network against a running API.
func TestHTTPCaller(t *testing.T) {
	w := newWorld(t)
	cs := w.connectServer(mcp.New(mcp.Config{Caller: mcp.HTTP{BaseURL: w.hs.URL, APIKey: w.key}}))
	a := ok(t, cs, "ensure_customer", map[string]any{"email": "bob@startup.io", "name": "Bob"})
	if got := ok(t, cs, "get_customer", map[string]any{"customerId": a.str("reference")}); got.str("email") != "bob@startup.io" {
		t.Fatalf("get_customer: %v", got.structured)
	}
	bad := w.connectServer(mcp.New(mcp.Config{Caller: mcp.HTTP{BaseURL: w.hs.URL, APIKey: "sk_sandbox_wrong"}}))
	fails(t, bad, "list_customers", nil, "UNAUTHORISED")
}

// Merchant B's key sees none of merchant A's objects through MCP, as over REST.
func TestTenantIsolation(t *testing.T) {
	w := newWorld(t)
	a := w.overHTTP(w.key)
	b := w.overHTTP(w.keyB)
	jane := ok(t, a, "create_customer", map[string]any{"email": "jane@acme.com", "name": "Jane Smith"}).str("reference")
	product := ok(t, a, "create_product", map[string]any{"name": "support-bot"}).str("reference")
	fails(t, b, "get_customer", map[string]any{"customerRef": jane}, "RESOURCE_NOT_FOUND")
	fails(t, b, "get_purchases_by_customer", map[string]any{"customerRef": jane}, "RESOURCE_NOT_FOUND")
	fails(t, b, "create_customer_session", map[string]any{"customerRef": jane}, "RESOURCE_NOT_FOUND")
	fails(t, b, "get_product", map[string]any{"productRef": product}, "RESOURCE_NOT_FOUND")
	fails(t, b, "check_limits", map[string]any{"customerRef": jane, "productRef": product}, "RESOURCE_NOT_FOUND")
	fails(t, b, "record_usage", map[string]any{"customerRef": jane, "productRef": product}, "RESOURCE_NOT_FOUND")
	fails(t, b, "delete_customer", map[string]any{"customerRef": jane}, "RESOURCE_NOT_FOUND")
	if l := ok(t, b, "list_customers", nil); l.structured["total"] != float64(0) {
		t.Fatalf("B lists A's customers: %v", l.structured)
	}
	if l := ok(t, b, "list_products", nil); l.structured["total"] != float64(0) {
		t.Fatalf("B lists A's products: %v", l.structured)
	}
	// A still sees its customer: B's attempt changed nothing.
	ok(t, a, "get_customer", map[string]any{"customerRef": jane})
}

// /mcp wants an API key like every API route: missing or wrong is a 401 in the API's error shape;
// a Bearer token works as X-API-KEY does.
func TestHTTPAuth(t *testing.T) {
	w := newWorld(t)
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	post := func(header, value string) (int, string) {
		req, _ := http.NewRequest("POST", w.hs.URL+mcp.Path, strings.NewReader(initialize))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if header != "" {
			req.Header.Set(header, value)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct{ header, value string }{{"", ""}, {"X-API-KEY", "sk_sandbox_wrong"}, {"Authorization", "Bearer nope"}} {
		status, body := post(c.header, c.value)
		if status != http.StatusUnauthorized || !strings.Contains(body, `"code":"UNAUTHORISED"`) {
			t.Fatalf("%s %q: %d %s", c.header, c.value, status, body)
		}
	}
	if status, body := post("Authorization", "Bearer "+w.key); status != http.StatusOK || !strings.Contains(body, `"serverInfo"`) {
		t.Fatalf("bearer: %d %s", status, body)
	}
}

// connectServer connects a client to server over in-memory pipes.
func (w *world) connectServer(server *sdk.Server) *sdk.ClientSession {
	w.t.Helper()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := server.Connect(w.ctx, st, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { ss.Close() })
	return w.connect(ct)
}

// /mcp answers only to its own names: a page that re-points its name at the server (DNS
// rebinding) or calls it from a foreign origin gets a 403, even with a valid key; IP addresses,
// localhost and the public URL's host are served.
func TestHTTPRefusesForeignHostsAndOrigins(t *testing.T) {
	w := newWorld(t, func(c *api.Config) { c.PublicURL = "https://billing.example.com" })
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	for _, c := range []struct {
		host, origin string
		want         int
	}{
		{"", "", http.StatusOK},
		{"localhost", "http://localhost:8080", http.StatusOK},
		{"billing.example.com", "https://billing.example.com", http.StatusOK},
		{"rebind.example:8080", "", http.StatusForbidden},
		{"rebind.example:8080", "http://rebind.example:8080", http.StatusForbidden},
		{"", "https://evil.example", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", w.hs.URL+mcp.Path, strings.NewReader(initialize))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("X-API-KEY", w.key)
		if c.host != "" {
			req.Host = c.host
		}
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("Host %q Origin %q: %d %s, want %d", c.host, c.origin, res.StatusCode, b, c.want)
		}
		if c.want == http.StatusForbidden && !strings.Contains(string(b), `"field":"Host"`) {
			t.Errorf("Host %q Origin %q: not the API's error shape: %s", c.host, c.origin, b)
		}
	}
}
