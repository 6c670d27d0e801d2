package testenv

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

// StripeMock runs stripe-mock on loopback for this test. A machine without it fails the test
// rather than skipping it: make test installs it (scripts/install-stripe-mock.sh).
func StripeMock(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		if out, e2 := exec.Command("go", "env", "GOPATH").Output(); e2 == nil {
			p := filepath.Join(strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), "bin", "stripe-mock")
			if _, e3 := os.Stat(p); e3 == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatal("stripe-mock is not installed: make test installs it (scripts/install-stripe-mock.sh)")
	}
	ports := make([]int, 2)
	for i := range ports {
		var err error
		if ports[i], err = devenv.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-http-addr", fmt.Sprintf("127.0.0.1:%d", ports[0]), "-https-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
	}
	t.Fatalf("stripe-mock did not answer on %s", base)
	return ""
}

// StripeCalls records the requests a Stripe processor sends (give it Client() as its
// HTTPClient), so a test proves what reached Stripe, and what never did.
//
// stripe-mock answers every SetupIntent with its fixture, status requires_payment_method (a
// card refused); StripeCalls answers SetupStatus instead (empty: succeeded, as Stripe answers
// a card that needs no authentication), so a checkout's on-session setup can be played as
// Stripe would answer it: requires_action while the bank asks, then succeeded.
type StripeCalls struct {
	mu          sync.Mutex
	calls       []string // "POST /v1/payment_intents"
	SetupStatus string
}

// SetSetupStatus sets the status SetupIntents are answered with from now on.
func (c *StripeCalls) SetSetupStatus(status string) {
	c.mu.Lock()
	c.SetupStatus = status
	c.mu.Unlock()
}

// Client is an HTTP client that records each request, then sends it on.
func (c *StripeCalls) Client() *http.Client { return &http.Client{Transport: c, Timeout: time.Minute} }

// RoundTrip records r and sends it.
func (c *StripeCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls = append(c.calls, r.Method+" "+r.URL.Path)
	status := cmp.Or(c.SetupStatus, "succeeded")
	c.mu.Unlock()
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasPrefix(r.URL.Path, "/v1/setup_intents") || res.StatusCode != http.StatusOK {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	var si map[string]any
	if json.Unmarshal(body, &si) == nil && si["object"] == "setup_intent" {
		si["status"] = status
		body, _ = json.Marshal(si)
	}
	res.Body, res.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	res.Header.Del("Content-Length")
	return res, nil
}

// List is every request so far, as "METHOD /path".
func (c *StripeCalls) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Count is how many requests so far begin with prefix, e.g. "POST /v1/payment_intents".
func (c *StripeCalls) Count(prefix string) int {
	n := 0
	for _, call := range c.List() {
		if strings.HasPrefix(call, prefix) {
			n++
		}
	}
	return n
}

// Stripe is a Stripe processor against this test's stripe-mock, with every request it sends
// recorded (no retries of its own, so each call is one request).
func Stripe(t testing.TB) (*stripe.Processor, *StripeCalls) {
	t.Helper()
	calls := &StripeCalls{}
	return stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: StripeMock(t), HTTPClient: calls.Client(),
		MaxNetworkRetries: new(int64)}), calls
}

// StripeRequest is one request that reached stripe-mock through StripeProxy: which key it
// carried (the Bearer of its Authorization header) and what it asked.
type StripeRequest struct {
	Key            string // sk_test_…
	Call           string // "POST /v1/payment_intents"
	IdempotencyKey string
}

// StripeRequests records what StripeProxy passed on.
type StripeRequests struct {
	mu   sync.Mutex
	reqs []StripeRequest
}

// List is every request so far.
func (c *StripeRequests) List() []StripeRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// StripeProxy is a loopback reverse proxy in front of this test's stripe-mock, recording the key
// each request carries: give its URL as a processor's BackendURL (STRIPE_API_URL) to see whose
// credentials each call to Stripe is made with.
func StripeProxy(t testing.TB) (string, *StripeRequests) {
	t.Helper()
	target, err := url.Parse(StripeMock(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &StripeRequests{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, StripeRequest{Key: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
			Call: r.Method + " " + r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}
