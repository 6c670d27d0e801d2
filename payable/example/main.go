// Command example protects a small task API with a Tollgate paywall (seed 003's flow).
//
//	set -a; . .tollgate/dev.env; set +a    # TOLLGATE_API_URL and TOLLGATE_API_KEY from `make dev`
//	TOLLGATE_PRODUCT=prd_… go run ./payable/example
//	curl -X POST -H 'X-Customer-Ref: user_123' http://127.0.0.1:8090/tasks
//
// Each call checks the customer's limits, runs the handler and records one api_call; past the
// free allowance the answer is 402 {"error":"PaywallError","message":"Purchase required",
// "checkoutUrl":"…"}.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"

	"github.com/tollgate-billing/tollgate/payable"
)

func main() {
	client := payable.NewClient(getenv("TOLLGATE_API_URL", getenv("TOLLGATE_URL", "http://127.0.0.1:8080")), os.Getenv("TOLLGATE_API_KEY"))
	paywall := &payable.Paywall{
		Client:  client,
		Product: os.Getenv("TOLLGATE_PRODUCT"),
		OnError: func(err error) { log.Printf("usage not recorded: %v", err) },
	}
	mux := http.NewServeMux()
	mux.Handle("POST /tasks", paywall.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "customerRef": r.Header.Get(payable.CustomerHeader)})
	}))
	addr := getenv("ADDR", "127.0.0.1:8090")
	log.Printf("tasks API on http://%s/tasks (paywall for product %s)", addr, paywall.Product)
	log.Fatal(http.ListenAndServe(addr, mux))
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
