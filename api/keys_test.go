//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// replica is one API server listening for key changes, as `tollgate api` runs.
type replica struct {
	srv *api.Server
	env *env
}

func startReplica(t *testing.T, st *store.Store, key string) replica {
	t.Helper()
	srv := api.New(api.Config{Store: st})
	ctx, cancel := context.WithCancel(context.Background())
	go srv.WatchKeys(ctx)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); cancel() })
	return replica{srv: srv, env: &env{t: t, srv: hs, key: key}}
}

// waitFor polls cond until it holds; it bounds a wait, it asserts no duration.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestKeyChangesReachEveryReplica: two API servers on one database both remember a key after
// its first use; revoking it (or expiring it through a rotation) on the database makes both
// refuse it on their very next request after Postgres's announcement arrives — no cache window.
func TestKeyChangesReachEveryReplica(t *testing.T) {
	st := testenv.Postgres(t)
	merchant, key := testenv.Merchant(t, st, "Acme")
	ctx := context.Background()
	spare, err := st.CreateAPIKey(ctx, merchant, store.KeySpec{Mode: domain.ModeSandbox, Name: "spare"})
	if err != nil {
		t.Fatal(err)
	}
	reps := []replica{startReplica(t, st, key), startReplica(t, st, key)}
	for i, r := range reps {
		waitFor(t, "replica "+strconv.Itoa(i)+" listening", func() bool { _, l := r.srv.KeyCached(merchant); return l })
		r.env.must(200, "GET", "/v1/customers", "")
		if cached, _ := r.srv.KeyCached(merchant); !cached {
			t.Fatalf("replica %d does not remember the key it just accepted", i)
		}
	}
	keys, err := st.ListAPIKeys(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, k := range keys {
		if k.ID != spare.ID {
			first = k.ID
		}
	}
	gens := []uint64{reps[0].srv.KeyGeneration(), reps[1].srv.KeyGeneration()}
	if _, err := st.RevokeAPIKey(ctx, first); err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		waitFor(t, "the revocation to reach replica "+strconv.Itoa(i), func() bool { return r.srv.KeyGeneration() > gens[i] })
		if s, out := r.env.do("GET", "/v1/customers", ""); s != 401 {
			t.Errorf("replica %d still accepts the revoked key: %d %v", i, s, out)
		}
	}

	// the spare key, remembered by both, is rotated with no grace: the old one is refused too
	for _, r := range reps {
		r.env.key = spare.Secret
		r.env.must(200, "GET", "/v1/customers", "")
	}
	gens = []uint64{reps[0].srv.KeyGeneration(), reps[1].srv.KeyGeneration()}
	next, _, err := st.RotateAPIKey(ctx, spare.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		waitFor(t, "the rotation to reach replica "+strconv.Itoa(i), func() bool { return r.srv.KeyGeneration() > gens[i] })
		if s, out := r.env.do("GET", "/v1/customers", ""); s != 401 {
			t.Errorf("replica %d still accepts the rotated-out key: %d %v", i, s, out)
		}
		r.env.key = next.Secret
		r.env.must(200, "GET", "/v1/customers", "")
	}
}

// TestExpiringKeyRefusedWhenItExpires: a remembered key with an expiry stops at the expiry,
// with no announcement needed.
func TestExpiringKeyRefusedWhenItExpires(t *testing.T) {
	st := testenv.Postgres(t)
	merchant, _ := testenv.Merchant(t, st, "Acme")
	ctx := context.Background()
	k, err := st.CreateAPIKey(ctx, merchant, store.KeySpec{Mode: domain.ModeSandbox})
	if err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, st, k.Secret)
	waitFor(t, "listening", func() bool { _, l := r.srv.KeyCached(merchant); return l })
	// expire it in the database behind the trigger's back (an UPDATE of last_used_at alone
	// announces nothing), so only the remembered expiry can refuse it
	if _, err := st.Pool.Exec(ctx, `ALTER TABLE api_keys DISABLE TRIGGER api_keys_changed`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE api_keys SET expires_at = now() + interval '1 second' WHERE id = $1`, k.ID); err != nil {
		t.Fatal(err)
	}
	r.env.must(200, "GET", "/v1/customers", "")
	if cached, _ := r.srv.KeyCached(merchant); !cached {
		t.Fatal("the key is not remembered")
	}
	waitFor(t, "the key to expire", func() bool { s, _ := r.env.do("GET", "/v1/customers", ""); return s == 401 })
}

// TestReadOnlyKeyRefusesWrites: a read-only key reads everything its merchant's key reads and is
// refused every POST, PATCH and DELETE with 403 FORBIDDEN, changing nothing.
func TestReadOnlyKeyRefusesWrites(t *testing.T) {
	w := newWorld(t)
	a := w.fixture(w.env, w.merchant, "jane@acme.com")
	ro, err := w.st.CreateAPIKey(context.Background(), w.merchant, store.KeySpec{Mode: domain.ModeSandbox, Name: "dashboard", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	reader := &env{t: t, srv: w.env.srv, key: ro.Secret}
	path := strings.NewReplacer("{ref}", a.customer, "{planRef}", a.plan)
	w.must(200, "GET", "/v1/meters", "") // the default meters exist before counting rows
	before := w.rowCounts()
	writes := 0
	for _, route := range w.srv.Routes() {
		method, p, _ := strings.Cut(route, " ")
		if strings.HasPrefix(route, "POST /v1/webhooks/stripe") { // signed by Stripe, no API key
			continue
		}
		if method == "GET" {
			if s, out := reader.do(method, path.Replace(p), ""); s == 401 || s == 403 {
				t.Errorf("%s: the read-only key is refused a read: %d %v", route, s, out)
			}
			continue
		}
		writes++
		s, out := reader.do(method, path.Replace(p), `{}`)
		er, _ := out["error"].(map[string]any)
		if s != 403 || er["code"] != "FORBIDDEN" || er["type"] != "permission_error" || er["message"] == "" {
			t.Errorf("%s with a read-only key: %d %v", route, s, out)
		}
	}
	if writes < 20 {
		t.Fatalf("walked only %d write routes", writes)
	}
	if after := w.rowCounts(); !maps.Equal(before, after) {
		t.Errorf("a read-only key's refused writes changed rows:\n%v\n%v", before, after)
	}
	w.must(201, "POST", "/v1/products", `{"name":"still writable with the full key"}`)
}

// TestKeyRateLimit: past its bucket a key is answered 429 RATE_LIMITED with Retry-After, and
// another key of the same merchant is not.
func TestKeyRateLimit(t *testing.T) {
	st := testenv.Postgres(t)
	merchant, key := testenv.Merchant(t, st, "Acme")
	other, err := st.CreateAPIKey(context.Background(), merchant, store.KeySpec{Mode: domain.ModeSandbox})
	if err != nil {
		t.Fatal(err)
	}
	// one request every 1,000 s after a burst of 3: the fourth is refused however slow the machine
	hs := httptest.NewServer(api.New(api.Config{Store: st, KeyRate: 0.001, KeyBurst: 3}))
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: hs, key: key}
	for range 3 {
		e.must(200, "GET", "/v1/customers", "")
	}
	req := func(k string) (int, map[string]any, string) {
		r, _ := http.NewRequest("GET", hs.URL+"/v1/customers", nil)
		r.Header.Set("X-API-KEY", k)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out, res.Header.Get("Retry-After")
	}
	s, out, retry := req(key)
	er, _ := out["error"].(map[string]any)
	if s != 429 || er["code"] != "RATE_LIMITED" || er["type"] != "rate_limit_error" {
		t.Errorf("past the bucket: %d %v", s, out)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Errorf("Retry-After %q", retry)
	}
	if s, out, _ := req(other.Secret); s != 200 {
		t.Errorf("another key is limited too: %d %v", s, out)
	}
}
