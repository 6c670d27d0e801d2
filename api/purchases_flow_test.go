//go:build !fuzzonly

package api_test

import (
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// newLifecycleWorld is a world with purchase workflows: the embedded Temporal server and a
// worker on a task queue of the test's own.
func newLifecycleWorld(t *testing.T, configure ...func(*api.Config)) *world {
	t.Helper()
	tc := testenv.Temporal(t)
	w := newWorld(t, append(configure, func(c *api.Config) {
		c.Temporal = tc
		c.Starter = testenv.Lifecycle(t, tc, &activities.Activities{Store: c.Store, Payments: c.Payments})
	})...)
	w.tc = tc
	return w
}

// TestPurchaseLifecycleThroughTheAPI plays seed 000/003 end to end: activate (payment needed,
// then with a card), cancel and reactivate renewal, a renewal by the test clock, a plan switch
// and refunds that carry their own txn_ reference.
func TestPurchaseLifecycleThroughTheAPI(t *testing.T) {
	w := newLifecycleWorld(t)
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"jane@acme.com","name":"Jane Smith"}`)["reference"].(string)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	team := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Team","type":"recurring","price":9900,"currency":"USD"}`)["reference"].(string)

	body := `{"customerRef":"` + cus + `","productRef":"` + prd + `","planRef":"` + pro + `"}`
	res := w.must(200, "POST", "/v1/activate-plan", body)
	if res["status"] != "payment_required" || !strings.Contains(res["checkoutUrl"].(string), "/checkout/cs_") {
		t.Fatalf("no card: %v", res)
	}
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	res = w.must(200, "POST", "/v1/activate-plan", body)
	if res["status"] != "activated" {
		t.Fatalf("activate: %v", res)
	}
	pur := res["purchase"].(map[string]any)
	ref := pur["reference"].(string)
	if pur["status"] != "active" || pur["paidTotal"].(float64) != 4900 || pur["carriedAmount"] != float64(0) {
		t.Fatalf("purchase: %v", pur)
	}
	if again := w.must(200, "POST", "/v1/activate-plan", body); again["status"] != "already_active" {
		t.Fatalf("again: %v", again)
	}

	c := w.must(200, "POST", "/v1/purchases/"+ref+"/cancel-renewal", `{"reason":"Customer requested downgrade"}`)
	if c["displayStatus"] != "pending_cancellation" || c["cancelReason"] != "Customer requested downgrade" || c["hasAccess"] != true {
		t.Fatalf("cancel: %v", c)
	}
	if l := w.must(200, "GET", "/v1/purchases?status=pending_cancellation&customerRef="+cus, ""); l["total"].(float64) != 1 {
		t.Fatalf("pending cancellation filter: %v", l)
	}
	if r := w.must(200, "POST", "/v1/purchases/"+ref+"/reactivate", ""); r["displayStatus"] != "active" || r["cancelledAt"] != nil {
		t.Fatalf("reactivate: %v", r)
	}
	status, refused := w.do("POST", "/v1/purchases/"+ref+"/reactivate", "")
	if status < 400 || status >= 500 || refused["error"].(map[string]any)["message"] == "" {
		t.Fatalf("reactivate an active purchase: %d %v", status, refused)
	}
	if status, body := w.do("POST", "/v1/purchases/"+ref+"/retry-payment", ""); status < 400 || status >= 500 {
		t.Fatalf("retry an active purchase: %d %v", status, body)
	}

	adv := w.must(200, "POST", "/v1/purchases/"+ref+"/advance-clock", `{"days":32}`)
	if adv["period"].(float64) != 2 || adv["paidTotal"].(float64) != 9800 {
		t.Fatalf("renewal by test clock: %v", adv)
	}

	// a plan change is a step of the same purchase: previewed, then made at the preview's instant
	pv := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan/preview", `{"planRef":"`+team+`"}`)
	if pv["direction"] != "upgrade" || pv["effective"] != "now" || pv["total"].(float64) <= 2500 || len(pv["lines"].([]any)) != 2 {
		t.Fatalf("preview: %v", pv)
	}
	if g := w.must(200, "GET", "/v1/purchases/"+ref, ""); g["planRef"] != pro {
		t.Fatalf("the preview changed the purchase: %v", g)
	}
	sw := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan", `{"planRef":"`+team+`","prorationDate":"`+pv["prorationDate"].(string)+`"}`)
	prev, next, change := sw["previous"].(map[string]any), sw["purchase"].(map[string]any), sw["change"].(map[string]any)
	if prev["planRef"] != pro || prev["reference"] != ref || next["reference"] != ref || next["planRef"] != team ||
		next["status"] != "active" || change["total"] != pv["total"] || change["transactionRef"] == "" {
		t.Fatalf("change plan: %v (preview %v)", sw, pv)
	}
	total := change["total"].(float64)
	pay := change["transactionRef"].(string)
	if g := w.must(200, "GET", "/v1/transactions/"+pay, ""); g["amount"].(float64) != total {
		t.Fatalf("the change's payment: %v", g)
	}
	part := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`","amount":2500,"reason":"Double charge"}`)
	if !strings.HasPrefix(part["reference"].(string), "txn_") || part["reference"] == pay || part["amount"].(float64) != 2500 ||
		part["full"] != false || part["sourceTransactionRef"] != pay {
		t.Fatalf("partial refund: %v", part)
	}
	// The same request again without an Idempotency-Key (a client's retry) answers the first refund.
	again := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`","amount":2500,"reason":"Double charge"}`)
	if again["reference"] != part["reference"] || again["amount"].(float64) != 2500 {
		t.Fatalf("a repeated refund request without a key refunded again: %v then %v", part, again)
	}
	if status, body := w.do("POST", "/v1/refunds", `{"sourceTransactionId":"`+pay+`","amount":999999}`); status != 400 || errField(body) != "amount" {
		t.Fatalf("refund more than is left: %d %v", status, body)
	}
	full := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionId":"`+pay+`","reason":"Cancelled"}`, "Idempotency-Key", "refund-rest")
	if full["amount"].(float64) != total-2500 || full["full"] != true {
		t.Fatalf("refund the rest: %v", full)
	}
	replay := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionId":"`+pay+`","reason":"Cancelled"}`, "Idempotency-Key", "refund-rest")
	if replay["reference"] != full["reference"] {
		t.Fatalf("a retried refund refunded again: %v then %v", full, replay)
	}
	if g := w.must(200, "GET", "/v1/transactions/"+pay, ""); g["refundedAmount"].(float64) != total {
		t.Fatalf("refunded payment: %v", g)
	}
	st := w.must(200, "GET", "/v1/transactions/stats", "")
	if st["successful"].(float64) != 3 || st["refunded"].(float64) != 2 || st["revenue"].(float64) != 4900+4900+total {
		t.Fatalf("stats: %v", st)
	}
	if b := w.must(200, "GET", "/v1/products/"+prd+"/balance", ""); b["net"].(float64) != 4900+4900 {
		t.Fatalf("balance: %v", b)
	}
}
