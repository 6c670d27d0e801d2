//go:build !fuzzonly

package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one API server on a fresh database with one merchant.
type env struct {
	t   *testing.T
	srv *httptest.Server
	key string
}

func newEnv(t *testing.T) *env {
	st := testenv.Postgres(t)
	_, key := testenv.Merchant(t, st, "Acme")
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, key: key}
}

// send sends a request with the merchant's key (none when empty) and answers the status and the raw body.
func (e *env) send(method, path, body string, headers ...string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if e.key != "" {
		req.Header.Set("X-API-KEY", e.key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// do sends a request with the merchant's key (a body as JSON) and decodes the JSON answer.
func (e *env) do(method, path, body string, headers ...string) (int, map[string]any) {
	e.t.Helper()
	if body != "" {
		headers = append([]string{"Content-Type", "application/json"}, headers...)
	}
	status, raw := e.send(method, path, body, headers...)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return status, out
}
