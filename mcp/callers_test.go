package mcp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tollgate-billing/tollgate/mcp"
)

// TestHTTPCallerKeepsTheKeyOnItsHost: an API (or whoever answers at its URL) that redirects to
// another host does not get the relay to send the merchant's key there; a redirect on the same
// host is still followed.
func TestHTTPCallerKeepsTheKeyOnItsHost(t *testing.T) {
	const key = "sk_sandbox_redirKeyP2z"
	var keysSeen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-KEY") != "" {
			keysSeen.Add(1)
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/away":
			http.Redirect(w, r, other.URL+"/v1/sdk/merchant", http.StatusTemporaryRedirect)
		case "/v1/moved":
			http.Redirect(w, r, "/v1/sdk/merchant", http.StatusMovedPermanently)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"reference":"mer_1","key":"` + r.Header.Get("X-API-KEY") + `"}`))
		}
	}))
	defer api.Close()
	caller := mcp.HTTP{BaseURL: api.URL, APIKey: key}

	_, err := caller.Call(context.Background(), mcp.Request{Method: http.MethodGet, Path: "/v1/away"})
	if err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("redirect to another host: %v", err)
	}
	if n := keysSeen.Load(); n != 0 {
		t.Errorf("the other host received the API key %d time(s)", n)
	}
	res, err := caller.Call(context.Background(), mcp.Request{Method: http.MethodGet, Path: "/v1/moved"})
	if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), key) {
		t.Errorf("redirect on the same host: %v %d %s", err, res.Status, res.Body)
	}
}
