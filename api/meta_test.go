//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// A page past the last one is an empty page; a page number whose row offset would overflow is a
// 400 naming page, never a 500.
func TestPagesPastTheEnd(t *testing.T) {
	e := newEnv(t)
	if s, b := e.do("POST", "/v1/products", `{"name":"support-bot"}`); s != 201 {
		t.Fatalf("create: %d %v", s, b)
	}
	for _, path := range []string{"/v1/customers", "/v1/sdk/customers", "/v1/products", "/v1/transactions", "/v1/purchases"} {
		if s, b := e.do("GET", path+"?page=7", ""); s != 200 || len(b["data"].([]any)) != 0 || b["page"].(float64) != 7 {
			t.Errorf("%s?page=7: %d %v", path, s, b)
		}
		for _, page := range []string{"9223372036854775807", "92233720368547758", "10000001"} {
			s, b := e.do("GET", path+"?page="+page, "")
			if s != 400 || b["error"].(map[string]any)["field"] != "page" {
				t.Errorf("%s?page=%s: %d %v", path, page, s, b)
			}
		}
	}
}
