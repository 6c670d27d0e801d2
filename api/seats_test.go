//go:build !fuzzonly

package api_test

import (
	"fmt"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
)

// TestSeatsThroughTheAPI buys a per-seat plan with a quantity, adds seats mid-period (charged
// exactly the previewed proration, once), removes seats (scheduled for the period end), refuses
// bad quantities without changing anything, and scales the usage limit with the seats.
func TestSeatsThroughTheAPI(t *testing.T) {
	w := newLifecycleWorld(t)
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"jane@acme.com"}`)["reference"].(string)
	prd := w.must(201, "POST", "/v1/products", `{"name":"team-bot"}`)["reference"].(string)
	team := w.must(201, "POST", "/v1/products/"+prd+"/plans",
		`{"name":"Team","type":"recurring","price":1000,"currency":"USD","perSeat":true,"limitsPerSeat":true,"limit":100}`)
	if team["perSeat"] != true || team["limitsPerSeat"] != true {
		t.Fatalf("plan: %v", team)
	}
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","quantity":3}`)
	pur := res["purchase"].(map[string]any)
	ref := pur["reference"].(string)
	if res["status"] != "activated" || pur["quantity"] != float64(3) || pur["paidTotal"] != float64(3000) {
		t.Fatalf("activate 3 seats: %v", res)
	}
	limit := func() float64 {
		return w.must(200, "POST", "/v1/limits", `{"customerRef":"`+cus+`","productRef":"`+prd+`"}`)["limit"].(float64)
	}
	if l := limit(); l != 300 {
		t.Fatalf("limit for 3 seats: %v, want 300", l)
	}
	w.must(200, "POST", "/v1/purchases/"+ref+"/advance-clock", `{"days":10}`)

	// more seats: previewed, then charged exactly the preview, once
	pv := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan/preview", `{"quantity":5}`)
	if pv["direction"] != "upgrade" || pv["effective"] != "now" || pv["fromQuantity"] != float64(3) || pv["toQuantity"] != float64(5) ||
		pv["total"].(float64) <= 0 || pv["total"].(float64) >= 2000 {
		t.Fatalf("preview of 5 seats: %v", pv)
	}
	if g := w.must(200, "GET", "/v1/purchases/"+ref, ""); g["quantity"] != float64(3) {
		t.Fatalf("the preview changed the purchase: %v", g)
	}
	body := `{"quantity":5,"prorationDate":"` + pv["prorationDate"].(string) + `"}`
	ch := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan", body, "Idempotency-Key", "seats-5")
	change, after := ch["change"].(map[string]any), ch["purchase"].(map[string]any)
	if change["total"] != pv["total"] || change["toQuantity"] != float64(5) || change["effective"] != "now" ||
		after["quantity"] != float64(5) || after["planRef"] != team["reference"] || after["reference"] != ref {
		t.Fatalf("5 seats: %v (preview %v)", ch, pv)
	}
	again := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan", body, "Idempotency-Key", "seats-5")
	if again["change"].(map[string]any)["transactionRef"] != change["transactionRef"] {
		t.Fatalf("a retried change answered another: %v then %v", ch, again)
	}
	pays := w.payments(ref)
	if len(pays) != 2 || (pays[0] != change["transactionRef"] && pays[1] != change["transactionRef"]) {
		t.Fatalf("payments after the change: %v (change %v)", pays, change)
	}
	if g := w.must(200, "GET", "/v1/transactions/"+change["transactionRef"].(string), ""); g["amount"] != pv["total"] {
		t.Fatalf("the change's payment: %v, previewed %v", g, pv["total"])
	}
	if l := limit(); l != 500 {
		t.Fatalf("limit for 5 seats: %v, want 500", l)
	}

	// fewer seats wait for the period end
	down := w.must(200, "POST", "/v1/purchases/"+ref+"/change-plan", `{"quantity":2}`)["change"].(map[string]any)
	if down["effective"] != "period_end" || down["toQuantity"] != float64(2) || down["total"] != float64(0) {
		t.Fatalf("2 seats: %v", down)
	}
	g := w.must(200, "GET", "/v1/purchases/"+ref, "")
	sc, _ := g["scheduledChange"].(map[string]any)
	if g["quantity"] != float64(5) || sc == nil || sc["quantity"] != float64(2) || sc["effectiveAt"] != g["currentPeriodEnd"] {
		t.Fatalf("scheduled decrease: %v", g)
	}

	// bad quantities: 400 naming quantity, nothing changes
	before := w.rowCounts()
	for _, q := range []string{"0", "-1", "1.5", `"5"`, "9223372036854775807", "100000000000000000000000", fmt.Sprint(domain.MaxQuantity + 1)} {
		for _, path := range []string{"/change-plan", "/change-plan/preview"} {
			status, out := w.do("POST", "/v1/purchases/"+ref+path, `{"quantity":`+q+`}`)
			if e, _ := out["error"].(map[string]any); status != 400 || e == nil || e["code"] != "INVALID_FIELD" || e["field"] != "quantity" {
				t.Errorf("quantity %s on %s: %d %v", q, path, status, out)
			}
		}
		status, out := w.do("POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","quantity":`+q+`}`)
		if e, _ := out["error"].(map[string]any); status != 400 || e == nil || e["field"] != "quantity" {
			t.Errorf("activate with quantity %s: %d %v", q, status, out)
		}
	}
	if after := w.rowCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("bad quantities changed rows:\nbefore %v\nafter  %v", before, after)
	}
	if g2 := w.must(200, "GET", "/v1/purchases/"+ref, ""); g2["quantity"] != float64(5) || fmt.Sprint(g2["scheduledChange"]) != fmt.Sprint(sc) {
		t.Fatalf("after bad quantities: %v", g2)
	}

	// the renewal charges the seats scheduled
	adv := w.must(200, "POST", "/v1/purchases/"+ref+"/advance-clock", `{"days":25}`)
	if adv["period"] != float64(2) || adv["quantity"] != float64(2) || adv["scheduledChange"] != nil {
		t.Fatalf("renewal: %v", adv)
	}
	pays = w.payments(ref)
	if len(pays) != 3 {
		t.Fatalf("payments after the renewal: %v", pays)
	}
	if g := w.must(200, "GET", "/v1/transactions/"+pays[2], ""); g["amount"] != float64(2000) {
		t.Fatalf("renewal of 2 seats: %v", g)
	}
}
