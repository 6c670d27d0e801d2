package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/mcp"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/web"
	"github.com/tollgate-billing/tollgate/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// world is a real API server (Postgres, sandbox payments, the hosted pages, MCP at /mcp) on a
// loopback httptest server, with two merchants: A (key) and B (keyB).
type world struct {
	t         *testing.T
	ctx       context.Context
	st        *store.Store
	sb        *sandbox.Processor
	srv       *api.Server
	hs        *httptest.Server
	merchant  string
	key, keyB string
}

func newWorld(t *testing.T, configure ...func(*api.Config)) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, st: testenv.Postgres(t)}
	w.sb = sandbox.New(w.st.Pool)
	w.merchant, w.key = testenv.Merchant(t, w.st, "Acme")
	_, w.keyB = testenv.Merchant(t, w.st, "Beta")
	pages := web.New(web.Config{Store: w.st, Payments: w.sb})
	cfg := api.Config{Store: w.st, Payments: w.sb, Extra: map[string]http.Handler{
		"/checkout/": pages, "/portal/": pages, "/assets/": pages}}
	for _, c := range configure {
		c(&cfg)
	}
	w.srv = mcp.NewAPI(cfg, mcp.HTTPOptions{})
	w.hs = httptest.NewServer(w.srv)
	t.Cleanup(w.hs.Close)
	return w
}

// overHTTP is an MCP client session over real Streamable HTTP at /mcp, sending key as X-API-KEY.
func (w *world) overHTTP(key string) *sdk.ClientSession {
	w.t.Helper()
	hc := &http.Client{Transport: headerTransport{key: key}, Timeout: time.Minute}
	return w.connect(&sdk.StreamableClientTransport{Endpoint: w.hs.URL + mcp.Path, HTTPClient: hc, MaxRetries: -1})
}

// inMemory is an MCP client session on in-memory pipes, its tools calling the API in-process.
func (w *world) inMemory(key string) *sdk.ClientSession {
	w.t.Helper()
	return w.connectServer(mcp.New(mcp.Config{Caller: mcp.InProcess{Handler: w.srv, APIKey: key, BaseURL: w.hs.URL}}))
}

func (w *world) connect(t sdk.Transport) *sdk.ClientSession {
	w.t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "tollgate-test", Version: "1"}, nil)
	cs, err := client.Connect(w.ctx, t, nil)
	if err != nil {
		w.t.Fatalf("connect MCP client: %v", err)
	}
	w.t.Cleanup(func() { cs.Close() })
	return cs
}

type headerTransport struct{ key string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-API-KEY", h.key)
	return http.DefaultTransport.RoundTrip(r)
}

// answer is a tool result read back: its text, structured content and whether it is an error.
type answer struct {
	text       string
	structured map[string]any
	isError    bool
}

// call calls a tool; a protocol error fails the test (tools must answer tool errors instead).
func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): protocol error %v", name, args, err)
	}
	var a answer
	a.isError = res.IsError
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			a.text += tc.Text
		}
	}
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &a.structured)
	}
	if a.text == "" {
		t.Fatalf("%s: no text for a person: %+v", name, res)
	}
	return a
}

// ok calls a tool that must succeed.
func ok(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) answer {
	t.Helper()
	a := call(t, cs, name, args)
	if a.isError {
		t.Fatalf("%s(%v) failed: %s", name, args, a.text)
	}
	return a
}

// fails calls a tool that must answer a tool error with code, and returns the error object.
func fails(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, code string) map[string]any {
	t.Helper()
	a := call(t, cs, name, args)
	if !a.isError {
		t.Fatalf("%s(%v) succeeded, want %s: %s", name, args, code, a.text)
	}
	e, _ := a.structured["error"].(map[string]any)
	if e == nil || e["code"] != code {
		t.Fatalf("%s(%v): error %v, want code %s (text %q)", name, args, a.structured, code, a.text)
	}
	if !strings.HasPrefix(a.text, code+": ") || strings.Contains(a.text, "goroutine") || strings.Contains(a.text, ".go:") {
		t.Fatalf("%s: error text %q", name, a.text)
	}
	return e
}

func (a answer) str(key string) string {
	s, _ := a.structured[key].(string)
	return s
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// get fetches a page of the test server (checkout and portal links).
func (w *world) get(url string) int {
	w.t.Helper()
	res, err := http.Get(url)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// newWorldWithWorkflows is a world whose API starts and changes purchases through the embedded
// Temporal server and a purchase worker.
func newWorldWithWorkflows(t *testing.T) (*world, client.Client) {
	t.Helper()
	tc := testenv.Temporal(t)
	w := newWorld(t, func(c *api.Config) { c.Temporal = tc })
	wk := worker.New(tc, &activities.Activities{Store: w.st, Payments: w.sb}, worker.Options{})
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.Stop)
	return w, tc
}
