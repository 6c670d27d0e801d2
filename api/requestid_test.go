//go:build !fuzzonly

package api_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// Every answer carries X-Request-Id (the caller's when sane, else a new req_…), every error body
// the same id as requestId, and the request's log lines the same id.
func TestRequestIDInHeaderErrorBodyAndLog(t *testing.T) {
	logs := &testenv.LogBuffer{}
	w := newWorld(t, func(c *api.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	call := func(path, key, requestID string) (http.Header, int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", w.env.srv.URL+path, nil)
		req.Header.Set("X-API-KEY", key)
		if requestID != "" {
			req.Header.Set("X-Request-Id", requestID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.Header, resp.StatusCode, out
	}
	bodyID := func(out map[string]any) string {
		e, _ := out["error"].(map[string]any)
		id, _ := e["requestId"].(string)
		return id
	}

	for _, c := range []struct {
		name, path, key, sent string
		status                int
		keep                  bool // the sent id is answered
	}{
		{"not found, no id sent", "/v1/customers/cus_nope", w.key, "", 404, false},
		{"not found, a caller's id", "/v1/customers/cus_nope", w.key, "lb-7f3a:9c.01_x-y", 404, true},
		{"wrong key, an id with a space", "/v1/customers", "sk_sandbox_wrongKeyN4r", "a b", 401, false},
		{"wrong key, an id too long", "/v1/customers", "sk_sandbox_wrongKeyN4r", strings.Repeat("x", 129), 401, false},
	} {
		h, status, out := call(c.path, c.key, c.sent)
		id := h.Get("X-Request-Id")
		switch {
		case status != c.status:
			t.Errorf("%s: status %d %v, want %d", c.name, status, out, c.status)
		case c.keep && id != c.sent:
			t.Errorf("%s: X-Request-Id %q, want the caller's %q", c.name, id, c.sent)
		case !c.keep && !strings.HasPrefix(id, "req_"):
			t.Errorf("%s: X-Request-Id %q, want a new req_…", c.name, id)
		case bodyID(out) != id:
			t.Errorf("%s: error body requestId %q, header %q: %v", c.name, bodyID(out), id, out)
		case !logged(logs.String(), c.path, id):
			t.Errorf("%s: no request log line with requestId %q:\n%s", c.name, id, logs)
		}
	}
	if h, status, _ := call("/v1/customers", w.key, ""); status != 200 || !strings.HasPrefix(h.Get("X-Request-Id"), "req_") {
		t.Errorf("a success: status %d, X-Request-Id %q", status, h.Get("X-Request-Id"))
	}
}

// logged reports whether logs hold the request line of path with request id id.
func logged(logs, path, id string) bool {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "request" && line["path"] == path && line["requestId"] == id {
			return true
		}
	}
	return false
}
