//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// /readyz is public: with its database gone it says "down" and nothing of the driver's error
// (which names the user, the database and the host).
func TestReadyzSaysUpOrDownOnly(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	defer srv.Close()
	admin, err := pgx.Connect(ctx, testenv.PostgresCluster(t).AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	if _, err := admin.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || body["postgres"] != "down" || body["temporal"] != "not configured" {
		t.Errorf("readyz: %d %v", res.StatusCode, body)
	}
}

// listRoutes reads /openapi.json for every GET that takes ?page=, so a list added later is
// covered by the table below without editing it.
func listRoutes(t *testing.T, base string) []string {
	t.Helper()
	res, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, ops := range doc.Paths {
		for _, p := range ops["get"].Parameters {
			if p.Name == "page" && p.In == "query" {
				out = append(out, path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Every list answers a page past the last with an empty page, and any other page or limit it
// cannot serve (zero, negative, not a number, past int64, an offset that would overflow) with a
// 400 naming the parameter, never a 500.
func TestPagesPastTheEnd(t *testing.T) {
	e := newEnv(t)
	_, prd := e.do("POST", "/v1/products", `{"name":"support-bot"}`)
	ref, _ := prd["reference"].(string)
	if ref == "" {
		t.Fatalf("create product: %v", prd)
	}
	_, hook := e.do("POST", "/v1/webhook-endpoints", `{"url":"http://127.0.0.1:9/hooks"}`)
	hookRef, _ := hook["reference"].(string)
	if hookRef == "" {
		t.Fatalf("create webhook endpoint: %v", hook)
	}
	routes := listRoutes(t, e.srv.URL)
	if len(routes) < 7 {
		t.Fatalf("/openapi.json lists %d list routes: %v", len(routes), routes)
	}
	bad := map[string]string{
		"page=0": "page", "page=-1": "page", "page=abc": "page", "page=1.5": "page", "page=": "",
		"page=999999999999": "page", "page=9223372036854775807": "page", "page=92233720368547758070": "page",
		"page=-9223372036854775808": "page", "page=10000001": "page", "page=0x10": "page",
		"limit=0": "limit", "limit=-5": "limit", "limit=101": "limit", "limit=1e2": "limit",
		"limit=9223372036854775807": "limit", "page=10000000&limit=99999999999": "limit",
	}
	for _, route := range routes {
		path := strings.ReplaceAll(route, "{ref}", ref)
		if strings.HasPrefix(route, "/v1/webhook-endpoints/") { // an endpoint's deliveries
			path = strings.ReplaceAll(route, "{ref}", hookRef)
		}
		for _, q := range []string{"page=7", "page=10000000&limit=100", "page=999&limit=1"} {
			s, b := e.do("GET", path+"?"+q, "")
			if data, ok := b["data"].([]any); s != 200 || !ok || len(data) != 0 {
				t.Errorf("%s?%s: %d %v, want an empty page", path, q, s, b)
			}
		}
		for q, field := range bad {
			s, b := e.do("GET", path+"?"+q, "")
			if field == "" { // an empty page= is the default page
				if s != 200 {
					t.Errorf("%s?%s: %d %v", path, q, s, b)
				}
				continue
			}
			if errBody, _ := b["error"].(map[string]any); s != 400 || errBody["field"] != field {
				t.Errorf("%s?%s: %d %v, want a 400 naming %s", path, q, s, b, field)
			}
		}
	}
}
