//go:build !fuzzonly

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

const adminToken = "admin-token-0123456789abcdef0123456789"

type adminEnv struct {
	t    *testing.T
	st   *store.Store
	srv  *httptest.Server
	api  *api.Server
	logs *testenv.LogBuffer
}

func newAdminEnv(t *testing.T, token string, configure ...func(*api.Config)) *adminEnv {
	st := testenv.Postgres(t)
	logs := &testenv.LogBuffer{}
	cfg := api.Config{Store: st, AdminToken: token, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	for _, c := range configure {
		c(&cfg)
	}
	a := api.New(cfg)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &adminEnv{t: t, st: st, srv: srv, api: a, logs: logs}
}

// call sends a request with the given bearer (admin token or API key) and decodes the answer.
func (e *adminEnv) call(method, path, bearer, body string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return res.StatusCode, out
}

func (e *adminEnv) must(status int, method, path, bearer, body string) map[string]any {
	e.t.Helper()
	got, out := e.call(method, path, bearer, body)
	if got != status {
		e.t.Fatalf("%s %s: %d, want %d: %v", method, path, got, status, out)
	}
	return out
}

// TestAdminAPIOffWithoutToken: with no TOLLGATE_ADMIN_TOKEN there is no admin API at all.
func TestAdminAPIOffWithoutToken(t *testing.T) {
	e := newAdminEnv(t, "")
	for _, path := range []string{"/admin/v1/merchants", "/admin/v1/merchants/mer_x/keys"} {
		for _, bearer := range []string{"", adminToken} {
			if s, out := e.call("GET", path, bearer, ""); s != 404 {
				t.Errorf("GET %s with the admin API off: %d %v", path, s, out)
			}
		}
	}
	if s, _ := e.call("POST", "/admin/v1/merchants", adminToken, `{"name":"Acme"}`); s != 404 {
		t.Errorf("POST with the admin API off: %d", s)
	}
	if n := len(e.api.AdminRoutes()); n != 0 {
		t.Errorf("%d admin routes registered while off", n)
	}
}

// TestAdminAPIRefusesWrongToken: a missing or wrong token, or a merchant's API key, is a 401 in
// the one error shape, logged without what was sent, and changes nothing.
func TestAdminAPIRefusesWrongToken(t *testing.T) {
	e := newAdminEnv(t, adminToken)
	_, key := testenv.Merchant(t, e.st, "Acme")
	for _, bearer := range []string{"", "wrong-token-Qx7", adminToken + "x", key} {
		s, out := e.call("POST", "/admin/v1/merchants", bearer, `{"name":"Intruder"}`)
		er, _ := out["error"].(map[string]any)
		if s != 401 || er["code"] != "UNAUTHORISED" {
			t.Errorf("bearer %q: %d %v", bearer, s, out)
		}
	}
	if ms := e.must(200, "GET", "/admin/v1/merchants", adminToken, "")["data"].([]any); len(ms) != 1 {
		t.Errorf("merchants after refused calls: %v", ms)
	}
	logs := e.logs.String()
	if strings.Count(logs, "admin API: refused") != 4 || !strings.Contains(logs, "a wrong token") {
		t.Errorf("refusals not logged:\n%s", logs)
	}
	if strings.Contains(logs, "wrong-token-Qx7") || strings.Contains(logs, key) {
		t.Errorf("the log carries what was sent:\n%s", logs)
	}
}

// TestAdminAPIOnboarding walks the operator's day: create a merchant (with its first keys),
// list, show and update it, make a read-only key, list keys (never a secret), revoke, rotate.
func TestAdminAPIOnboarding(t *testing.T) {
	e := newAdminEnv(t, adminToken)
	created := e.must(201, "POST", "/admin/v1/merchants", adminToken,
		`{"name":"Acme","legalName":"Acme Ltd","supportEmail":"help@acme.com","logoUrl":"https://acme.com/logo.png","currency":"eur"}`)
	m := created["merchant"].(map[string]any)
	ref := m["reference"].(string)
	if m["legalName"] != "Acme Ltd" || m["supportContact"] != "help@acme.com" || m["defaultCurrency"] != "EUR" {
		t.Errorf("merchant: %v", m)
	}
	keys := created["keys"].([]any)
	secrets := map[string]string{}
	for _, k := range keys {
		k := k.(map[string]any)
		secrets[k["mode"].(string)] = k["secret"].(string)
	}
	if len(keys) != 2 || !strings.HasPrefix(secrets["sandbox"], "sk_sandbox_") || !strings.HasPrefix(secrets["live"], "sk_live_") {
		t.Fatalf("first keys: %v", keys)
	}
	// the sandbox key works at once
	e.must(200, "GET", "/v1/customers", secrets["sandbox"], "")
	if got := e.must(200, "GET", "/v1/sdk/platform-config", secrets["live"], "")["mode"]; got != "live" {
		t.Errorf("the live key's mode: %v", got)
	}

	if ms := e.must(200, "GET", "/admin/v1/merchants", adminToken, "")["data"].([]any); len(ms) != 1 {
		t.Errorf("list: %v", ms)
	}
	e.must(200, "GET", "/admin/v1/merchants/"+ref, adminToken, "")
	if up := e.must(200, "PATCH", "/admin/v1/merchants/"+ref, adminToken, `{"name":"Acme 2"}`); up["name"] != "Acme 2" || up["legalName"] != "Acme Ltd" {
		t.Errorf("update: %v", up)
	}

	ro := e.must(201, "POST", "/admin/v1/merchants/"+ref+"/keys", adminToken, `{"mode":"sandbox","name":"dashboard","readOnly":true}`)
	if ro["readOnly"] != true || ro["name"] != "dashboard" || !strings.HasPrefix(ro["secret"].(string), "sk_sandbox_") {
		t.Errorf("read-only key: %v", ro)
	}
	list := e.must(200, "GET", "/admin/v1/merchants/"+ref+"/keys", adminToken, "")
	raw, _ := json.Marshal(list)
	for _, secret := range []string{secrets["sandbox"], secrets["live"], ro["secret"].(string)} {
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(secret[:len(secret)-4])) {
			t.Errorf("the key list shows a secret: %s", raw)
		}
	}
	if n := len(list["data"].([]any)); n != 3 {
		t.Errorf("keys listed: %d", n)
	}
	for _, k := range list["data"].([]any) {
		k := k.(map[string]any)
		if k["id"] == nil || k["prefix"] == nil || k["createdAt"] == nil || k["mode"] == nil {
			t.Errorf("key row: %v", k)
		}
	}

	// rotate the sandbox key: the new one works, the old one until it expires (0s: now)
	sandboxID := idOf(t, list, "sandbox", false)
	rot := e.must(201, "POST", "/admin/v1/keys/"+sandboxID+"/rotate", adminToken, `{"expireOldIn":"1h"}`)
	newSecret := rot["key"].(map[string]any)["secret"].(string)
	if rot["old"].(map[string]any)["expiresAt"] == nil {
		t.Errorf("the old key has no expiry: %v", rot)
	}
	e.must(200, "GET", "/v1/customers", newSecret, "")
	e.must(200, "GET", "/v1/customers", secrets["sandbox"], "")
	newID := rot["key"].(map[string]any)["id"].(string)
	e.must(201, "POST", "/admin/v1/keys/"+newID+"/rotate", adminToken, `{"expireOldIn":"0s"}`)
	e.must(401, "GET", "/v1/customers", newSecret, "")

	// revoke: refused at once
	e.must(200, "POST", "/admin/v1/keys/"+sandboxID+"/revoke", adminToken, "")
	e.must(401, "GET", "/v1/customers", secrets["sandbox"], "")
	e.must(409, "POST", "/admin/v1/keys/"+sandboxID+"/rotate", adminToken, "")
}

func idOf(t *testing.T, list map[string]any, mode string, readOnly bool) string {
	t.Helper()
	for _, k := range list["data"].([]any) {
		k := k.(map[string]any)
		if k["mode"] == mode && k["readOnly"] == readOnly {
			return k["id"].(string)
		}
	}
	t.Fatalf("no %s key in %v", mode, list)
	return ""
}

// TestAdminAPIBadInput: every admin route that takes input refuses bad input in the one error
// shape, naming the field, and changes no merchant or key.
func TestAdminAPIBadInput(t *testing.T) {
	e := newAdminEnv(t, adminToken)
	created := e.must(201, "POST", "/admin/v1/merchants", adminToken, `{"name":"Acme"}`)
	ref := created["merchant"].(map[string]any)["reference"].(string)
	keyID := created["keys"].([]any)[0].(map[string]any)["id"].(string)
	M, K := "/admin/v1/merchants/"+ref, "/admin/v1/keys/"+keyID
	type tc struct {
		method, path, body string
		status             int
		field              string
	}
	cases := map[string][]tc{
		"POST /admin/v1/merchants": {
			{"POST", "/admin/v1/merchants", `{}`, 400, "name"},
			{"POST", "/admin/v1/merchants", `{"name":"  "}`, 400, "name"},
			{"POST", "/admin/v1/merchants", `{"name":5}`, 400, "name"},
			{"POST", "/admin/v1/merchants", `{"name":"x","zzz":1}`, 400, "zzz"},
			{"POST", "/admin/v1/merchants", `{"name":"x","supportEmail":"nope"}`, 400, "supportEmail"},
			{"POST", "/admin/v1/merchants", `{"name":"x","logoUrl":"javascript:alert(1)"}`, 400, "logoUrl"},
			{"POST", "/admin/v1/merchants", `{"name":"x","currency":"dollars"}`, 400, "currency"},
			{"POST", "/admin/v1/merchants", `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, "name"},
			{"POST", "/admin/v1/merchants", ``, 400, "body"},
			{"POST", "/admin/v1/merchants", `{"name":"x"`, 400, "body"},
		},
		"PATCH /admin/v1/merchants/{ref}": {
			{"PATCH", M, `{}`, 400, "body"},
			{"PATCH", M, `{"name":""}`, 400, "name"},
			{"PATCH", M, `{"legalName":" "}`, 400, "legalName"},
			{"PATCH", M, `{"currency":"US"}`, 400, "currency"},
			{"PATCH", M, `{"supportEmail":"a@b"}`, 400, "supportEmail"},
			{"PATCH", "/admin/v1/merchants/mer_nope", `{"name":"x"}`, 404, ""},
		},
		"POST /admin/v1/merchants/{ref}/keys": {
			{"POST", M + "/keys", `{}`, 400, "mode"},
			{"POST", M + "/keys", `{"mode":"prod"}`, 400, "mode"},
			{"POST", M + "/keys", `{"mode":"live","readOnly":"yes"}`, 400, "readOnly"},
			{"POST", M + "/keys", `{"mode":"live","name":"` + strings.Repeat("n", 101) + `"}`, 400, "name"},
			{"POST", "/admin/v1/merchants/mer_nope/keys", `{"mode":"live"}`, 404, ""},
		},
		"POST /admin/v1/keys/{id}/revoke": {
			{"POST", K + "/revoke", `{"zzz":1}`, 400, "zzz"},
			{"POST", "/admin/v1/keys/key_nope/revoke", ``, 404, ""},
		},
		"POST /admin/v1/keys/{id}/rotate": {
			{"POST", K + "/rotate", `{"expireOldIn":"soon"}`, 400, "expireOldIn"},
			{"POST", K + "/rotate", `{"expireOldIn":"-1h"}`, 400, "expireOldIn"},
			{"POST", K + "/rotate", `{"expireOldIn":"10000h"}`, 400, "expireOldIn"},
			{"POST", K + "/rotate", `{"expireOldIn":24}`, 400, "expireOldIn"},
			{"POST", "/admin/v1/keys/key_nope/rotate", ``, 404, ""},
		},
		"GET /admin/v1/merchants/{ref}": {
			{"GET", "/admin/v1/merchants/mer_nope", ``, 404, ""},
		},
		"GET /admin/v1/merchants/{ref}/keys": {
			{"GET", "/admin/v1/merchants/mer_nope/keys", ``, 404, ""},
		},
		"PUT /admin/v1/merchants/{ref}/stripe": {
			{"PUT", M + "/stripe", `{}`, 400, "secretKey"},
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_x"}`, 400, "secretKey"},
			{"PUT", M + "/stripe", `{"secretKey":"pk_live_0123456789"}`, 400, "secretKey"},
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_0123456789"}`, 400, "publishableKey"},
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_0123456789","publishableKey":"pk_test_0123456789"}`, 400, "publishableKey"},
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_0123456789","publishableKey":"pk_live_0123456789","webhookSecret":"nope"}`, 400, "webhookSecret"},
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_0123456789","publishableKey":"pk_live_0123456789","zzz":1}`, 400, "zzz"},
			{"PUT", M + "/stripe", ``, 400, "body"},
			// valid, but this server has no TOLLGATE_ENCRYPTION_KEY to seal it with
			{"PUT", M + "/stripe", `{"secretKey":"sk_live_0123456789","publishableKey":"pk_live_0123456789"}`, 503, ""},
			{"PUT", "/admin/v1/merchants/mer_nope/stripe", `{"secretKey":"sk_live_0123456789","publishableKey":"pk_live_0123456789"}`, 404, ""},
		},
		"GET /admin/v1/merchants/{ref}/stripe": {
			{"GET", "/admin/v1/merchants/mer_nope/stripe", ``, 404, ""},
		},
		"DELETE /admin/v1/merchants/{ref}/stripe": {
			{"DELETE", "/admin/v1/merchants/mer_nope/stripe", ``, 404, ""},
		},
	}
	snapshot := func() string {
		var out strings.Builder
		for _, q := range []string{`SELECT coalesce(string_agg(m::text, ',' ORDER BY id), '') FROM merchants m`,
			`SELECT coalesce(string_agg(k::text, ',' ORDER BY id), '') FROM api_keys k`,
			`SELECT coalesce(string_agg(s::text, ',' ORDER BY merchant_id), '') FROM merchant_stripe s`} {
			var s string
			if err := e.st.Pool.QueryRow(context.Background(), q).Scan(&s); err != nil {
				t.Fatal(err)
			}
			out.WriteString(s)
		}
		return out.String()
	}
	before := snapshot()
	for _, route := range e.api.AdminRoutes() {
		method, _, _ := strings.Cut(route, " ")
		list, ok := cases[route]
		if !ok && method != "GET" {
			t.Errorf("admin route %s takes input but is not in the bad input test", route)
		}
		for _, c := range list {
			s, out := e.call(c.method, c.path, adminToken, c.body)
			er, _ := out["error"].(map[string]any)
			if s != c.status || er == nil || er["code"] == nil || er["message"] == "" {
				t.Errorf("%s %s %s: %d %v, want %d", c.method, c.path, c.body, s, out, c.status)
				continue
			}
			if f, _ := er["field"].(string); f != c.field {
				t.Errorf("%s %s %s: field %q, want %q (%v)", c.method, c.path, c.body, f, c.field, er)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("bad input changed rows:\nbefore %s\nafter  %s", before, after)
	}
}
