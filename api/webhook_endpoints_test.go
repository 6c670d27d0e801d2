//go:build !fuzzonly

package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// Endpoints: created with a secret shown once, read without it, patched, rotated (a new secret,
// shown once), deleted; another merchant's is 404.
func TestWebhookEndpointsCRUD(t *testing.T) {
	w := newWorld(t)
	e := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"http://127.0.0.1:3000/hooks","enabledEvents":["purchase.renewed"],"description":"CRM"}`)
	ref, secret := e["reference"].(string), e["secret"].(string)
	if !strings.HasPrefix(ref, "we_") || !strings.HasPrefix(secret, "whsec_") || e["enabled"] != true || e["mode"] != "sandbox" {
		t.Fatalf("created: %v", e)
	}
	got := w.must(200, "GET", "/v1/webhook-endpoints/"+ref, "")
	if _, shown := got["secret"]; shown || got["url"] != "http://127.0.0.1:3000/hooks" {
		t.Fatalf("get shows the secret or lost the url: %v", got)
	}
	if l := w.must(200, "GET", "/v1/webhook-endpoints", ""); l["total"].(float64) != 1 || strings.Contains(fmt.Sprint(l), secret) {
		t.Fatalf("list: %v", l)
	}
	p := w.must(200, "PATCH", "/v1/webhook-endpoints/"+ref, `{"enabledEvents":["*"],"enabled":false}`)
	if p["enabled"] != false || p["enabledEvents"].([]any)[0] != "*" || p["description"] != "CRM" {
		t.Fatalf("patch: %v", p)
	}
	rot := w.must(200, "POST", "/v1/webhook-endpoints/"+ref+"/rotate-secret", "")
	if s, _ := rot["secret"].(string); !strings.HasPrefix(s, "whsec_") || s == secret {
		t.Fatalf("rotate: %v", rot)
	}
	if status, _ := w.asB().do("GET", "/v1/webhook-endpoints/"+ref, ""); status != 404 {
		t.Fatalf("another merchant's endpoint: %d", status)
	}
	w.must(200, "DELETE", "/v1/webhook-endpoints/"+ref, "")
	if status, _ := w.do("GET", "/v1/webhook-endpoints/"+ref, ""); status != 404 {
		t.Fatalf("deleted endpoint: %d", status)
	}
}

// A live key's endpoint must be https and not on a private address; the refusals name the field
// and create nothing (the row counts are TestBadInputChangesNothing's).
func TestLiveWebhookEndpointsMustBePublicHTTPS(t *testing.T) {
	w := newStripeWorld(t)
	for _, url := range []string{"http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.8/x", "https://169.254.169.254/x", "https://localhost/x"} {
		if status, body := w.live.do("POST", "/v1/webhook-endpoints", `{"url":"`+url+`"}`); status != 400 || errField(body) != "url" {
			t.Errorf("live %s: %d %v", url, status, body)
		}
	}
	w.live.must(201, "POST", "/v1/webhook-endpoints", `{"url":"https://hooks.example.com/x"}`)
	if l := w.must(200, "GET", "/v1/webhook-endpoints", ""); l["total"].(float64) != 0 {
		t.Fatalf("a sandbox key sees the live endpoint: %v", l)
	}
}

// Bad input on the endpoint API is a 400 naming the field, and creates nothing.
func TestWebhookEndpointBadInputCreatesNothing(t *testing.T) {
	w := newWorld(t)
	long := strings.Repeat("x", 10000)
	for body, field := range map[string]string{
		`{"url":"not a url"}`:              "url",
		`{"url":"ftp://127.0.0.1/x"}`:      "url",
		`{"url":"http://u:p@127.0.0.1/x"}`: "url",
		`{}`:                               "url",
		`{"url":"http://127.0.0.1/x","enabledEvents":["purchase.exploded"]}`: "enabledEvents",
		`{"url":"http://127.0.0.1/x","enabledEvents":[]}`:                    "enabledEvents",
		`{"url":"http://127.0.0.1/x","description":"` + long + `"}`:          "description",
	} {
		if status, res := w.do("POST", "/v1/webhook-endpoints", body); status != 400 || errField(res) != field {
			t.Errorf("%.60s: %d %v", body, status, res)
		}
	}
	if l := w.must(200, "GET", "/v1/webhook-endpoints", ""); l["total"].(float64) != 0 {
		t.Fatalf("bad input created endpoints: %v", l)
	}
}
