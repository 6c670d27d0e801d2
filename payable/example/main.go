// Command example protects a small task API with a Tollgate paywall (seed 003's flow).
//
//	set -a; . .tollgate/dev.env; set +a    # TOLLGATE_API_URL and TOLLGATE_API_KEY from `make dev`
//	TOLLGATE_PRODUCT=prd_… go run ./payable/example
//	curl -X POST -H 'Authorization: Bearer demo-token-user-123' http://127.0.0.1:8090/tasks
//
// The paywall bills the user this app signed in, never a customer the client names: the
// example's own sign-in is a bearer token per user (TASKS_TOKENS, "token=externalRef,…"); a
// real app reads its session or verifies its token there instead. Each call checks the user's
// limits, runs the handler and records one api_call; past the free allowance the answer is 402
// {"error":"PaywallError","message":"Purchase required","checkoutUrl":"…"}.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/payable"
)

func main() {
	client := payable.NewClient(getenv("TOLLGATE_API_URL", getenv("TOLLGATE_URL", "http://127.0.0.1:8080")), os.Getenv("TOLLGATE_API_KEY"))
	users := parseTokens(getenv("TASKS_TOKENS", "demo-token-user-123=user_123"))
	paywall := &payable.Paywall{
		Client:   client,
		Product:  os.Getenv("TOLLGATE_PRODUCT"),
		Customer: users.customer,
		OnError:  func(err error) { log.Printf("paywall: %v", err) },
	}
	mux := http.NewServeMux()
	mux.Handle("POST /tasks", paywall.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customer, _ := users.customer(r)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "customerRef": customer})
	}))
	addr := getenv("ADDR", "127.0.0.1:8090")
	log.Printf("tasks API on http://%s/tasks (paywall for product %s)", addr, paywall.Product)
	// Deadlines on every phase of a connection, so slow or idle clients cannot pin the server.
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}

// tokens is this app's own authentication: each user's bearer token and the user's reference,
// which is the customer's externalRef in Tollgate.
type tokens []struct{ token, user string }

func parseTokens(s string) tokens {
	var out tokens
	for _, pair := range strings.Split(s, ",") {
		if token, user, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && token != "" && user != "" {
			out = append(out, struct{ token, user string }{token, user})
		}
	}
	return out
}

// customer is the paywall's resolver: the signed-in user of the request, or an error.
func (ts tokens) customer(r *http.Request) (string, error) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		for _, t := range ts {
			if subtle.ConstantTimeCompare([]byte(got), []byte(t.token)) == 1 {
				return t.user, nil
			}
		}
	}
	return "", errors.New("not signed in")
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
