package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// cli runs `tollgate args…` against dbURL and answers what it printed and its error.
func cli(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	}, &out, &errOut)
	return out.String(), err
}

// TestOnboardingCLI is the README's first-deployment walkthrough against a database: create a
// merchant (its reference and first keys printed), list, show and update it, then create, list,
// rotate and revoke keys — and the keys it prints work on the API, a revoked one no more.
func TestOnboardingCLI(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(t, dbURL, args...)
		if err != nil {
			t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	out := must("merchants", "create", "--name", "Acme", "--support-email", "help@acme.com", "--currency", "eur")
	ref := regexp.MustCompile(`merchant (mer_\w+)`).FindStringSubmatch(out)
	sandbox := regexp.MustCompile(`sk_sandbox_\w+`).FindString(out)
	live := regexp.MustCompile(`sk_live_\w+`).FindString(out)
	if ref == nil || sandbox == "" || live == "" {
		t.Fatalf("merchants create printed no reference or keys:\n%s", out)
	}
	merchant := ref[1]
	if out := must("merchants", "list"); !strings.Contains(out, merchant) || !strings.Contains(out, "EUR") {
		t.Errorf("merchants list:\n%s", out)
	}
	if out := must("merchants", "update", merchant, "--legal-name", "Acme Ltd"); !strings.Contains(out, "Acme Ltd") || !strings.Contains(out, "help@acme.com") {
		t.Errorf("merchants update:\n%s", out)
	}
	var shown store.Merchant
	if err := json.Unmarshal([]byte(must("merchants", "show", merchant, "--json")), &shown); err != nil || shown.LegalName != "Acme Ltd" || shown.Name != "Acme" {
		t.Errorf("merchants show --json: %v %+v", err, shown)
	}

	out = must("keys", "create", "--merchant", merchant, "--mode", "sandbox", "--name", "dashboard", "--read-only")
	readOnly := regexp.MustCompile(`sk_sandbox_\w+`).FindString(out)
	if readOnly == "" || !strings.Contains(out, "read-only") {
		t.Fatalf("keys create:\n%s", out)
	}
	list := must("keys", "list", "--merchant", merchant)
	for _, secret := range []string{sandbox, live, readOnly} {
		if strings.Contains(list, secret) {
			t.Errorf("keys list shows a secret:\n%s", list)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^key_`).FindAllString(list, -1)); n != 3 || !strings.Contains(list, "dashboard") {
		t.Errorf("keys list has %d keys:\n%s", n, list)
	}

	// the printed keys are the API's keys
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := api.New(api.Config{Store: st})
	status := func(key, method string) int {
		return serveOnce(a, method, "/v1/products", key, `{"name":"p"}`)
	}
	if s := status(sandbox, "GET"); s != 200 {
		t.Errorf("the printed sandbox key: %d", s)
	}
	if s := status(readOnly, "POST"); s != 403 {
		t.Errorf("the read-only key wrote: %d", s)
	}
	var keys []store.KeyInfo
	if err := json.Unmarshal([]byte(must("keys", "list", "--merchant", merchant, "--json")), &keys); err != nil {
		t.Fatal(err)
	}
	var sandboxID string
	for _, k := range keys {
		if k.Mode == "sandbox" && !k.ReadOnly {
			sandboxID = k.ID
		}
	}
	out = must("keys", "rotate", sandboxID, "--expire-old-in", "0s")
	rotated := regexp.MustCompile(`sk_sandbox_\w+`).FindString(out)
	if rotated == "" || status(rotated, "GET") != 200 || status(sandbox, "GET") != 401 {
		t.Errorf("keys rotate --expire-old-in 0s:\n%s", out)
	}
	must("keys", "revoke", keys[0].ID)
	if k, _ := st.GetAPIKey(context.Background(), keys[0].ID); k.RevokedAt == nil {
		t.Errorf("keys revoke left %+v", k)
	}
}

// TestOnboardingCLIBadInput: each command refuses bad input with the API's code and message,
// the field named as its flag, and changes nothing.
func TestOnboardingCLIBadInput(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	out, err := cli(t, dbURL, "merchants", "create", "--name", "Acme", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Merchant store.Merchant
		Keys     []store.NewKey
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	m, key := created.Merchant.Ref, created.Keys[0].ID
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snapshot := func() string {
		var s string
		if err := st.Pool.QueryRow(context.Background(), `SELECT (SELECT string_agg(m::text, ',' ORDER BY id) FROM merchants m) ||
			(SELECT string_agg(k::text, ',' ORDER BY id) FROM api_keys k)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"merchants", "create"}, "MISSING_FIELD --name: name is required"},
		{[]string{"merchants", "create", "--name", " "}, "MISSING_FIELD --name"},
		{[]string{"merchants", "create", "--name", "x", "--support-email", "nope"}, `INVALID_FIELD --support-email: supportEmail "nope" is not a valid address`},
		{[]string{"merchants", "create", "--name", "x", "--currency", "dollars"}, "INVALID_FIELD --currency"},
		{[]string{"merchants", "create", "--name", "x", "--logo-url", "javascript:alert(1)"}, "INVALID_FIELD --logo-url"},
		{[]string{"merchants", "create", "--name", "x", "--colour", "red"}, "flag provided but not defined: -colour"},
		{[]string{"merchants", "show"}, "MISSING_FIELD MERCHANT"},
		{[]string{"merchants", "show", "mer_nope"}, `RESOURCE_NOT_FOUND: merchant "mer_nope" not found`},
		{[]string{"merchants", "show", m, "extra"}, `unexpected argument "extra"`},
		{[]string{"merchants", "update", m}, "MISSING_FIELD: send at least one of"},
		{[]string{"merchants", "update", m, "--legal-name", ""}, "INVALID_FIELD --legal-name"},
		{[]string{"merchants", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"keys", "create", "--mode", "live"}, "MISSING_FIELD --merchant"},
		{[]string{"keys", "create", "--merchant", m}, "MISSING_FIELD --mode: mode is required"},
		{[]string{"keys", "create", "--merchant", m, "--mode", "prod"}, `INVALID_FIELD --mode: mode must be sandbox or live, not "prod"`},
		{[]string{"keys", "create", "--merchant", "mer_nope", "--mode", "live"}, "RESOURCE_NOT_FOUND"},
		{[]string{"keys", "list"}, "MISSING_FIELD --merchant"},
		{[]string{"keys", "list", "--merchant", "mer_nope"}, "RESOURCE_NOT_FOUND"},
		{[]string{"keys", "revoke"}, "MISSING_FIELD KEY_ID"},
		{[]string{"keys", "revoke", "key_nope"}, `RESOURCE_NOT_FOUND: API key "key_nope" not found`},
		{[]string{"keys", "rotate", key, "--expire-old-in", "-1h"}, "INVALID_FIELD --expire-old-in"},
		{[]string{"keys", "rotate", key, "--expire-old-in", "soon"}, `invalid value "soon" for flag -expire-old-in`},
	} {
		out, err := cli(t, dbURL, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tollgate %s: %v, want %q\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("bad input changed rows:\n%s\n%s", before, after)
	}
	if _, err := cli(t, "", "merchants", "list"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("without a database: %v", err)
	}
}

// serveOnce sends one request to h in-process and answers its status.
func serveOnce(h http.Handler, method, path, key, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-API-KEY", key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}
