//go:build !fuzzonly

package api_test

import (
	"fmt"
	"testing"
)

// A customer's usage reaching 80% of its limit and then the limit, through single events, a
// bulk call and a consume, emits usage.threshold_reached and usage.limit_reached once each,
// listed at GET /v1/events with the customer, product, meter, period, limit and units used, and
// delivered to an endpoint on loopback whose receiver verifies them with the Standard Webhooks
// library.
func TestUsageEventsAreEmittedAndDelivered(t *testing.T) {
	w := deliveryWorld(t)
	rc := newReceiver(t)
	ep := w.must(201, "POST", "/v1/webhook-endpoints",
		`{"url":"`+rc.url+`","enabledEvents":["usage.threshold_reached","usage.limit_reached"]}`)
	rc.secrets = []string{ep["secret"].(string)}

	customer := w.must(201, "POST", "/v1/sdk/customers", `{"email":"meter@acme.com"}`)["reference"].(string)
	product := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	w.must(201, "POST", "/v1/products/"+product+"/plans",
		`{"name":"Free","type":"free","freeUnits":10,"limit":10,"meterName":"requests","isDefault":true}`)
	use := func(i, units int) {
		w.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":%d,"idempotencyKey":"u%d"}`,
			customer, product, units, i))
	}
	use(0, 5)
	if n := w.must(200, "GET", "/v1/events?type=usage.threshold_reached", "")["total"]; n != float64(0) {
		t.Fatalf("threshold events at 5 of 10: %v", n)
	}
	use(1, 3) // 8 of 10: the threshold
	w.must(201, "POST", "/v1/usages/bulk", fmt.Sprintf(`{"events":[{"customerRef":%q,"productRef":%q,"units":1,"idempotencyKey":"b1"},
		{"customerRef":%q,"productRef":%q,"units":0,"idempotencyKey":"b2"}]}`, customer, product, customer, product))
	w.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":1,"mode":"consume","idempotencyKey":"c1"}`,
		customer, product)) // 10 of 10: the limit
	use(2, 4) // past the limit: nothing more, nor for a retried event
	w.must(200, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":3,"idempotencyKey":"u1"}`, customer, product))

	refs := map[string]map[string]any{}
	for _, typ := range []string{"usage.threshold_reached", "usage.limit_reached"} {
		l := w.must(200, "GET", "/v1/events?type="+typ, "")
		if l["total"] != float64(1) {
			t.Fatalf("%s: %v", typ, l)
		}
		ev := l["data"].([]any)[0].(map[string]any)
		refs[typ] = ev
		obj := ev["object"].(map[string]any)
		if ev["objectType"] != "usage" || ev["objectRef"] != customer || ev["mode"] != "sandbox" || obj["customerRef"] != customer ||
			obj["productRef"] != product || obj["meterName"] != "requests" || obj["limit"] != float64(10) || obj["periodStart"] == nil {
			t.Fatalf("%s: %v", typ, ev)
		}
		got := w.must(200, "GET", "/v1/events/"+ev["reference"].(string), "")
		if fmt.Sprint(got) != fmt.Sprint(ev) {
			t.Fatalf("GET %s: %v, listed %v", ev["reference"], got, ev)
		}
	}
	if th, lim := refs["usage.threshold_reached"]["object"].(map[string]any), refs["usage.limit_reached"]["object"].(map[string]any); th["threshold"] != float64(8) || th["used"] != float64(8) ||
		lim["threshold"] != float64(10) || lim["used"] != float64(10) {
		t.Fatalf("marks: %v, %v", th, lim)
	}
	for typ, ev := range refs {
		ref := ev["reference"].(string)
		waitLong(t, "the delivery of "+typ, func() bool { return rc.delivered(ref) > 0 })
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.bad != 0 {
		t.Fatalf("%d deliveries failed verification", rc.bad)
	}
}
