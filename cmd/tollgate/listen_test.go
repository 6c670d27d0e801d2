package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
)

// receiver is a merchant's webhook handler on loopback: it verifies every delivery with the
// Standard Webhooks library (not Tollgate's code) under the secret it is given, and answers 500
// to the event types in fail.
type receiver struct {
	mu       sync.Mutex
	wh       *standardwebhooks.Webhook
	fail     map[string]bool
	got      []string       // webhook-ids, in arrival order
	times    map[string]int // deliveries of each webhook-id
	unsigned []string       // deliveries that did not verify
}

func (rc *receiver) setSecret(t *testing.T, secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the printed secret %q is not one a Standard Webhooks library takes: %v", secret, err)
	}
	rc.mu.Lock()
	rc.wh, rc.times = wh, map[string]int{}
	rc.mu.Unlock()
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id := r.Header.Get("webhook-id")
	if rc.wh == nil || rc.wh.Verify(body, r.Header) != nil {
		rc.unsigned = append(rc.unsigned, id)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev struct {
		Ref  string `json:"reference"`
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Ref != id {
		rc.unsigned = append(rc.unsigned, id+" (body is not its event)")
	}
	rc.got = append(rc.got, id)
	rc.times[id]++
	if rc.fail[ev.Type] {
		http.Error(w, "receiver broke on "+ev.Type, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// attempts counts every delivery, verified or not.
func (rc *receiver) attempts() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got) + len(rc.unsigned)
}

func (rc *receiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

// waitFor polls cond until it holds, failing the test after a minute (a deadline for a stuck
// test, not a measure of speed).
func waitFor(t *testing.T, what string, cond func() bool, show func() string) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited a minute for %s:\n%s", what, show())
		}
	}
}

type listedRef struct {
	Ref       string    `json:"reference"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
}

// TestListenForwardsSignedEvents runs `tollgate listen` against a running API with a sandbox
// key: the events the REST API causes after it starts (a customer's life, a purchase activated
// with a card) reach a receiver on loopback once each, verified by the Standard Webhooks library
// with the secret listen printed, and listen prints each with the receiver's answer; a 500 is
// printed and the next event still goes. Events from before it started are not sent; with
// --since and --events they are, filtered, oldest first.
func TestListenForwardsSignedEvents(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	_, key := testenv.Merchant(t, st, "Acme")
	tc := testenv.Temporal(t)
	pay := sandbox.New(st.Pool)
	srv := httptest.NewServer(api.New(api.Config{Store: st, Payments: pay, Temporal: tc,
		Starter: testenv.Lifecycle(t, tc, &activities.Activities{Store: st, Payments: pay})}))
	defer srv.Close()
	must := func(want int, method, path, body string) map[string]any {
		t.Helper()
		status, out := httpJSON(t, method, srv.URL+path, key, body)
		if status != want {
			t.Fatalf("%s %s: %d %v", method, path, status, out)
		}
		return out
	}
	events := func() []listedRef {
		t.Helper()
		var list struct{ Data []listedRef }
		status, out := httpJSON(t, "GET", srv.URL+"/v1/events?limit=100", key, "")
		b, _ := json.Marshal(out)
		if status != 200 || json.Unmarshal(b, &list) != nil {
			t.Fatalf("GET /v1/events: %d %s", status, b)
		}
		return list.Data
	}
	customer := func(email string) string {
		return must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
	}
	before := customer("before@acme.com")
	old := map[string]bool{}
	for _, e := range events() {
		old[e.Ref] = true
	}

	rc := &receiver{fail: map[string]bool{"customer.updated": true}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	listen := func(ctx context.Context, out *testenv.LogBuffer, args ...string) (<-chan error, string) {
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"listen", "--api-url", srv.URL, "--forward-to", hook.URL + "/hooks",
				"--poll-interval", "100ms"}, args...), func(k string) string {
				return map[string]string{"TOLLGATE_API_KEY": key}[k]
			}, out, out)
		}()
		waitFor(t, "listen to be ready", func() bool { return strings.Contains(out.String(), "Ready!") }, out.String)
		secret := regexp.MustCompile(`Your webhook signing secret is (whsec_\S+) `).FindStringSubmatch(out.String())
		if secret == nil || !strings.Contains(out.String(), "Ready! Forwarding events to "+hook.URL+"/hooks.") {
			t.Fatalf("listen's first line:\n%s", out.String())
		}
		if !slices.Contains(args, "--secret") {
			rc.setSecret(t, secret[1])
		}
		return done, secret[1]
	}
	lctx, stop := context.WithCancel(ctx)
	var out testenv.LogBuffer
	done, secret := listen(lctx, &out)

	// a customer's life, the update refused by the receiver; a purchase paid by card
	gone := customer("gone@acme.com")
	must(200, "PATCH", "/v1/sdk/customers/"+gone, `{"name":"Gone Soon"}`)
	must(200, "DELETE", "/v1/sdk/customers/"+gone, "")
	jane := customer("jane@acme.com")
	must(200, "POST", "/v1/customers/"+jane+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	prd := must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pln := must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	if res := must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+jane+`","productRef":"`+prd+`","planRef":"`+pln+`"}`); res["status"] != "activated" {
		t.Fatalf("activate: %v", res)
	}

	// every event the actions caused, as the API lists them (a workflow may finish a step after
	// answering: wait for the types they must cause)
	var want []listedRef
	caused := func() bool {
		want = want[:0]
		types := map[string]bool{}
		for _, e := range events() {
			if !old[e.Ref] {
				want = append(want, e)
				types[e.Type] = true
			}
		}
		for _, typ := range []string{"customer.created", "customer.updated", "customer.deleted", "purchase.activated", "payment.succeeded"} {
			if !types[typ] {
				return false
			}
		}
		return true
	}
	waitFor(t, "the events the actions cause", caused, func() string { return fmt.Sprint(want) })
	waitFor(t, "every event at the receiver", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.unsigned) > 0 || !slices.ContainsFunc(want, func(e listedRef) bool { return rc.times[e.Ref] == 0 })
	}, out.String)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("listen did not stop cleanly on ^C: %v", err)
	}

	rc.mu.Lock()
	if len(rc.unsigned) > 0 {
		t.Errorf("deliveries that the Standard Webhooks library did not verify: %v", rc.unsigned)
	}
	for _, e := range want {
		if rc.times[e.Ref] != 1 {
			t.Errorf("%s %s delivered %d times", e.Type, e.Ref, rc.times[e.Ref])
		}
	}
	for id, n := range rc.times { // a later event of the actions may come too, once
		if n != 1 || old[id] {
			t.Errorf("%s delivered %d times (from before listen started: %v)", id, n, old[id])
		}
	}
	rc.mu.Unlock()
	printed := out.String()
	for _, e := range want {
		answer := `\[200 OK\]`
		if e.Type == "customer.updated" {
			answer = `\[500 Internal Server Error\] receiver broke on customer.updated`
		}
		line := `(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ` + regexp.QuoteMeta(e.Type) + ` +` + e.Ref + `  ` + answer + `  \d+ms$`
		if !regexp.MustCompile(line).MatchString(printed) {
			t.Errorf("no line for %s %s with %s:\n%s", e.Type, e.Ref, answer, printed)
		}
	}
	if strings.Contains(printed, before) {
		t.Errorf("an event from before listen started was sent:\n%s", printed)
	}

	// --since sends recent events again, oldest first, to a receiver that has the secret given
	// with --secret; --events keeps only the types named
	rc.mu.Lock()
	rc.fail, rc.got = nil, nil
	rc.mu.Unlock()
	lctx, stop = context.WithCancel(ctx)
	var again testenv.LogBuffer
	done, _ = listen(lctx, &again, "--since", "1h", "--events", "customer.created,customer.deleted", "--secret", secret)
	var replay []listedRef
	all := events()
	for i := len(all) - 1; i >= 0; i-- {
		if e := all[i]; e.Type == "customer.created" || e.Type == "customer.deleted" {
			replay = append(replay, e)
		}
	}
	waitFor(t, "the replay at the receiver", func() bool { return rc.attempts() >= len(replay) }, again.String)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := rc.received()
	for i, e := range replay {
		if i >= len(got) || got[i] != e.Ref {
			t.Fatalf("replayed %v, want the customer events oldest first %v\n%s", got, replay, again.String())
		}
	}
	if len(got) != len(replay) || len(rc.unsigned) > 0 {
		t.Errorf("replayed %d events, want %d; not verified: %v\n%s", len(got), len(replay), rc.unsigned, again.String())
	}
}

// A receiver that is down gets a printed error for each event, and listen goes on to the next.
func TestListenPrintsAReceiverThatIsDown(t *testing.T) {
	now := time.Now().UTC()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[`+
			`{"reference":"evt_second","type":"customer.updated","mode":"sandbox","objectType":"customer","objectRef":"cus_1","object":{},"createdAt":"`+now.Format(time.RFC3339Nano)+`"},`+
			`{"reference":"evt_first","type":"customer.created","mode":"sandbox","objectType":"customer","objectRef":"cus_1","object":{},"createdAt":"`+now.Add(-time.Second).Format(time.RFC3339Nano)+`"}`+
			`],"page":1,"limit":100,"total":2,"links":{"next":null}}`)
	}))
	defer api.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	ctx, stop := context.WithCancel(context.Background())
	var out testenv.LogBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--api-url", api.URL, "--forward-to", down.URL, "--since", "1h"},
			func(k string) string { return map[string]string{"TOLLGATE_API_KEY": "sk_sandbox_listenKeyQ4z"}[k] }, &out, &out)
	}()
	waitFor(t, "both events", func() bool { return strings.Contains(out.String(), "evt_second") }, out.String)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^.*(evt_first|evt_second)  \[error\] .*connection refused.*$`).FindAllStringSubmatch(out.String(), -1)
	if len(lines) != 2 || lines[0][1] != "evt_first" || lines[1][1] != "evt_second" {
		t.Errorf("want an error line for each event, oldest first:\n%s", out.String())
	}
}

// A live key is refused before anything is sent: a clear message, exit status 1, the key not
// printed; so are a missing --forward-to and an unknown event type.
func TestListenRefusesLiveKeysAndBadFlags(t *testing.T) {
	const live = "sk_live_listenKeyQ4z"
	cmd := exec.Command(os.Args[0], "listen", "--forward-to", "http://localhost:3000/hooks")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TOLLGATE_API_KEY="+live)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("listen with a live key: %v, want exit status 1\n%s%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stderr.String(), "takes a sandbox key (sk_sandbox_…), not a live one") ||
		strings.Contains(stdout.String()+stderr.String(), live) || strings.Contains(stdout.String(), "Ready") {
		t.Errorf("listen with a live key printed:\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}

	env := map[string]string{"TOLLGATE_API_KEY": "sk_sandbox_listenKeyQ4z"}
	for args, want := range map[string]string{
		"":                                 "--forward-to is required",
		"--forward-to ftp://x/hooks":       "--forward-to: url must be an absolute http or https URL",
		"--forward-to :3000 --events nope": "--forward-to",
		"--forward-to localhost:3000/hooks --events customer.created,nope": `--events: "nope" is not an event type`,
		"--forward-to localhost:3000/hooks --secret nope":                  "--secret must be whsec_",
	} {
		out, err := cliEnv(env, append([]string{"listen"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(out, "Ready") {
			t.Errorf("listen %s: %v, want %q\n%s", args, err, want, out)
		}
	}
}
