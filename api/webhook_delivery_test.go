//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// receiver is a webhook endpoint on loopback that verifies every delivery with the Standard
// Webhooks library (not Tollgate's code) against the secrets it was given, and counts the
// deliveries of each event. While down it answers 503, then refuses connections.
type receiver struct {
	t       *testing.T
	mu      sync.Mutex
	secrets []string
	got     map[string]int // event ref → verified deliveries
	bad     int
	fail503 bool
	url     string
	ln      net.Listener
	srv     *http.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + ln.Addr().String() + "/hooks"
	r.serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *receiver) serve(ln net.Listener) {
	r.ln = ln
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle)}
	go r.srv.Serve(ln)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail503 {
		w.WriteHeader(503)
		return
	}
	verified := false
	for _, s := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil && wh.Verify(body, req.Header) == nil {
			verified = true
		}
	}
	var ev struct{ Reference string }
	if !verified || json.Unmarshal(body, &ev) != nil || ev.Reference != req.Header.Get("webhook-id") {
		r.bad++
		w.WriteHeader(400)
		return
	}
	r.got[ev.Reference]++
	w.WriteHeader(204)
}

// stop refuses connections; start listens again on the same address.
func (r *receiver) stop() { r.srv.Close() }
func (r *receiver) start() {
	ln, err := net.Listen("tcp", strings.TrimSuffix(strings.TrimPrefix(r.url, "http://"), "/hooks"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

func (r *receiver) delivered(ref string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[ref]
}

// deliveryWorld is a lifecycle world whose worker's task queue also gets the webhook relay,
// with a retry schedule of seconds; configure runs after the starter is set.
func deliveryWorld(t *testing.T, configure ...func(*api.Config)) *world {
	var sc *starter.Client
	tc := testenv.Temporal(t)
	w := newWorld(t, append([]func(*api.Config){func(c *api.Config) {
		c.Temporal = tc
		sc = testenv.Lifecycle(t, tc, &activities.Activities{Store: c.Store, Payments: c.Payments})
		c.Starter = sc
	}}, configure...)...)
	w.tc = tc
	ctx, cancel := context.WithCancel(context.Background())
	relay := &webhooks.Relay{Store: w.st, Temporal: tc, TaskQueue: sc.TaskQueue, Every: 50 * time.Millisecond,
		Backoff: []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second,
			2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second},
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	done := make(chan struct{})
	go func() { relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// waitLong is waitFor (keys_test.go) with a deadline for deliveries on their retry schedule on
// a loaded machine (never a timing assertion).
func waitLong(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every event reaches a receiver that is down for a while (503, then refused connections) and
// comes back: none lost, each verified by the Standard Webhooks library, duplicates bounded;
// each attempt is listed at the endpoint's deliveries; a redelivery sends one again.
func TestWebhooksDeliverEveryEventThroughAnOutage(t *testing.T) {
	w := deliveryWorld(t)
	rc := newReceiver(t)
	ep := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"`+rc.url+`"}`)
	rc.secrets = []string{ep["secret"].(string)}
	we := ep["reference"].(string)

	rc.mu.Lock()
	rc.fail503 = true
	rc.mu.Unlock()
	var customers []string
	for i := range 5 {
		customers = append(customers, w.must(201, "POST", "/v1/sdk/customers", `{"email":"c`+string(rune('a'+i))+`@acme.com"}`)["reference"].(string))
	}
	// 503s are recorded as attempts …
	waitLong(t, "a 503 attempt", func() bool {
		l := w.must(200, "GET", "/v1/webhook-endpoints/"+we+"/deliveries", "")["data"].([]any)
		return len(l) > 0 && l[0].(map[string]any)["statusCode"] == float64(503)
	})
	// … then the receiver refuses connections, and more events happen meanwhile
	rc.stop()
	rc.mu.Lock()
	rc.fail503 = false
	rc.mu.Unlock()
	for i := range 3 {
		customers = append(customers, w.must(201, "POST", "/v1/sdk/customers", `{"email":"d`+string(rune('a'+i))+`@acme.com"}`)["reference"].(string))
	}
	waitLong(t, "a refused attempt", func() bool {
		l := w.must(200, "GET", "/v1/webhook-endpoints/"+we+"/deliveries", "")["data"].([]any)
		return len(l) > 0 && l[0].(map[string]any)["statusCode"] == float64(0) && l[0].(map[string]any)["error"] != ""
	})
	rc.start()

	events := map[string]string{} // customer → its customer.created event
	for _, c := range customers {
		events[c] = w.must(200, "GET", "/v1/events?objectRef="+c, "")["data"].([]any)[0].(map[string]any)["reference"].(string)
	}
	for c, ev := range events {
		waitLong(t, "the delivery of "+ev+" ("+c+")", func() bool { return rc.delivered(ev) > 0 })
	}
	rc.mu.Lock()
	dup, bad := 0, rc.bad
	for _, n := range rc.got {
		dup += n - 1
	}
	rc.mu.Unlock()
	if bad != 0 || dup != 0 {
		t.Fatalf("%d deliveries failed verification, %d duplicates", bad, dup)
	}
	t.Logf("%d events delivered once each after an outage (503, then refused connections)", len(events))

	// a redelivery sends the event once more
	first := events[customers[0]]
	w.must(200, "POST", "/v1/events/"+first+"/redeliver", "")
	waitLong(t, "the redelivery", func() bool { return rc.delivered(first) == 2 })
}

// After a rotation both secrets sign for the overlap: a receiver that knows only the old one
// and one that knows only the new one both verify the next delivery.
func TestWebhooksSignWithBothSecretsAfterARotation(t *testing.T) {
	w := deliveryWorld(t)
	oldOnly, newOnly := newReceiver(t), newReceiver(t)
	a := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"`+oldOnly.url+`"}`)
	b := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"`+newOnly.url+`"}`)
	oldOnly.secrets = []string{a["secret"].(string)}
	rotA := w.must(200, "POST", "/v1/webhook-endpoints/"+a["reference"].(string)+"/rotate-secret", "")["secret"].(string)
	rotB := w.must(200, "POST", "/v1/webhook-endpoints/"+b["reference"].(string)+"/rotate-secret", "")["secret"].(string)
	newOnly.secrets = []string{rotB}
	if rotA == a["secret"] || rotB == b["secret"] {
		t.Fatal("rotation kept the secret")
	}
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"rot@acme.com"}`)["reference"].(string)
	ev := w.must(200, "GET", "/v1/events?objectRef="+cus, "")["data"].([]any)[0].(map[string]any)["reference"].(string)
	waitLong(t, "both deliveries", func() bool { return oldOnly.delivered(ev) == 1 && newOnly.delivered(ev) == 1 })
	if oldOnly.bad+newOnly.bad != 0 {
		t.Fatalf("unverified deliveries: %d %d", oldOnly.bad, newOnly.bad)
	}
}
