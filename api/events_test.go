//go:build !fuzzonly

package api_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventTypes waits until the key's events about object include every type of want (events are
// written with their change, so they are there when the answer is; the wait only covers a step a
// workflow finishes after answering) and answers the types, oldest first.
func (e *env) eventTypes(object string, want ...string) []string {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list := e.must(200, "GET", "/v1/events?limit=100&objectRef="+object, "")
		var got []string
		for _, ev := range list["data"].([]any) {
			m := ev.(map[string]any)
			if m["objectRef"] != object || !strings.HasPrefix(m["reference"].(string), "evt_") {
				e.t.Fatalf("event of another object or without evt_ reference: %v", m)
			}
			got = append([]string{m["type"].(string)}, got...)
		}
		missing := slices.ContainsFunc(want, func(t string) bool { return !slices.Contains(got, t) })
		if !missing {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("events of %s: %v, want %v among them", object, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every event type is emitted by the action that causes it, driven through the REST API and the
// test clock, with the object as it is after the change.
func TestEventsAreEmittedByTheirActions(t *testing.T) {
	w := newLifecycleWorld(t)
	customer := func(email string) string {
		return w.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
	}
	card := func(cus, pm string) {
		w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"`+pm+`"}`)
	}
	plan := func(prd, body string) string {
		return w.must(201, "POST", "/v1/products/"+prd+"/plans", body)["reference"].(string)
	}
	activate := func(cus, prd, pln string) string {
		res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
		return res["purchase"].(map[string]any)["reference"].(string)
	}
	advance := func(pur string, days int) {
		w.must(200, "POST", "/v1/purchases/"+pur+"/advance-clock", `{"days":`+strconv.Itoa(days)+`}`)
	}
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := plan(prd, `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)
	team := plan(prd, `{"name":"Team","type":"recurring","price":9900,"currency":"USD"}`)
	trial := plan(prd, `{"name":"Trial","type":"recurring","price":4900,"currency":"USD","trialDays":7}`)

	// customers
	gone := customer("gone@acme.com")
	w.must(200, "PATCH", "/v1/sdk/customers/"+gone, `{"name":"Gone Soon"}`)
	w.must(200, "DELETE", "/v1/sdk/customers/"+gone, "")
	if got := w.eventTypes(gone, "customer.created", "customer.updated", "customer.deleted"); len(got) != 3 {
		t.Fatalf("customer events: %v", got)
	}

	// a purchase that activates, is cancelled and reactivated, renews, changes plan and is refunded
	jane := customer("jane@acme.com")
	card(jane, "pm_card_visa")
	a := activate(jane, prd, pro)
	w.eventTypes(a, "purchase.activated")
	w.must(200, "POST", "/v1/purchases/"+a+"/cancel-renewal", `{"reason":"too dear"}`)
	w.eventTypes(a, "purchase.cancel_scheduled")
	w.must(200, "POST", "/v1/purchases/"+a+"/reactivate", "")
	w.eventTypes(a, "purchase.reactivated")
	advance(a, 32)
	w.eventTypes(a, "purchase.renewed")
	sw := w.must(200, "POST", "/v1/purchases/"+a+"/change-plan", `{"planRef":"`+team+`"}`)
	w.eventTypes(a, "purchase.plan_changed")
	pay := sw["change"].(map[string]any)["transactionRef"].(string)
	w.eventTypes(pay, "payment.succeeded")
	refund := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`"}`)["reference"].(string)
	w.eventTypes(refund, "refund.succeeded")
	w.eventTypes(a, "purchase.refunded")

	// a renewal that fails: past due, suspended, recovered by a retry with a good card
	bob := customer("bob@acme.com")
	card(bob, "pm_card_visa")
	b := activate(bob, prd, pro)
	card(bob, "pm_card_chargeCustomerFail")
	advance(b, 32)
	w.eventTypes(b, "purchase.past_due")
	advance(b, 4)
	w.eventTypes(b, "purchase.suspended")
	card(bob, "pm_card_visa")
	w.must(200, "POST", "/v1/purchases/"+b+"/retry-payment", "")
	w.eventTypes(b, "purchase.recovered")
	failed := w.must(200, "GET", "/v1/transactions?status=failed&purchaseRef="+b, "")["data"].([]any)
	if len(failed) == 0 {
		t.Fatal("no failed payment")
	}
	w.eventTypes(failed[0].(map[string]any)["reference"].(string), "payment.failed")
	// … then cancelled at the period end
	w.must(200, "POST", "/v1/purchases/"+b+"/cancel-renewal", "")
	advance(b, 40)
	w.eventTypes(b, "purchase.cancelled")

	// a trial whose renewals fail until dunning ends it
	cat := customer("cat@acme.com")
	card(cat, "pm_card_visa")
	c := activate(cat, prd, trial)
	w.eventTypes(c, "purchase.trial_started")
	advance(c, 8)
	w.eventTypes(c, "purchase.activated")
	card(cat, "pm_card_chargeCustomerFail")
	advance(c, 32)
	advance(c, 10)
	w.eventTypes(c, "purchase.past_due", "purchase.expired")

	// checkout: a hosted checkout completed
	dan := customer("dan@acme.com")
	cs := w.must(201, "POST", "/v1/checkout-sessions", `{"customerRef":"`+dan+`","productRef":"`+prd+`","planRef":"`+pro+`"}`)["reference"].(string)
	if ok, err := w.st.CompleteCheckoutSession(context.Background(), cs, a); err != nil || !ok {
		t.Fatal(ok, err)
	}
	w.eventTypes(cs, "checkout.completed")

	// the object is the object after the change; a type filter lists only that type
	ev := w.must(200, "GET", "/v1/events?type=purchase.refunded&objectRef="+a, "")["data"].([]any)
	obj := ev[0].(map[string]any)["object"].(map[string]any)
	if len(ev) != 1 || obj["status"] != "refunded" || obj["reference"] != a || obj["hasAccess"] != false ||
		ev[0].(map[string]any)["mode"] != "sandbox" {
		t.Fatalf("refunded event: %v", ev)
	}
	ref := ev[0].(map[string]any)["reference"].(string)
	if got := w.must(200, "GET", "/v1/events/"+ref, ""); got["type"] != "purchase.refunded" {
		t.Fatalf("get event: %v", got)
	}
	if status, _ := w.asB().do("GET", "/v1/events/"+ref, ""); status != 404 {
		t.Fatalf("another merchant's event: %d", status)
	}
	if l := w.asB().must(200, "GET", "/v1/events", ""); l["total"].(float64) != 0 {
		t.Fatalf("another merchant lists our events: %v", l)
	}
}

// A sandbox key never sees a live event, and a live key never sees a sandbox one.
func TestEventsKeepToTheirMode(t *testing.T) {
	w := newStripeWorld(t)
	liveCus := w.live.must(201, "POST", "/v1/sdk/customers", `{"email":"live@acme.com"}`)["reference"].(string)
	sbCus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"sandbox@acme.com"}`)["reference"].(string)
	liveEvents := w.live.must(200, "GET", "/v1/events?type=customer.created", "")["data"].([]any)
	if len(liveEvents) != 1 || liveEvents[0].(map[string]any)["objectRef"] != liveCus || liveEvents[0].(map[string]any)["mode"] != "live" {
		t.Fatalf("live key's events: %v", liveEvents)
	}
	sbEvents := w.must(200, "GET", "/v1/events?type=customer.created", "")["data"].([]any)
	if len(sbEvents) != 1 || sbEvents[0].(map[string]any)["objectRef"] != sbCus || sbEvents[0].(map[string]any)["mode"] != "sandbox" {
		t.Fatalf("sandbox key's events: %v", sbEvents)
	}
	if status, _ := w.do("GET", "/v1/events/"+liveEvents[0].(map[string]any)["reference"].(string), ""); status != 404 {
		t.Fatalf("a sandbox key read a live event: %d", status)
	}
	if status, _ := w.live.do("GET", "/v1/events/"+sbEvents[0].(map[string]any)["reference"].(string), ""); status != 404 {
		t.Fatalf("a live key read a sandbox event: %d", status)
	}
}

// A renewal the bank wants authenticated emits payment.requires_action once: the payment, failed
// with authentication_required, and the link of the hosted page that completes it.
func TestPaymentRequiresActionCarriesItsPayPage(t *testing.T) {
	w := newLifecycleWorld(t)
	w.st.PublicURL = "https://billing.example.com"
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"sca@acme.com"}`)["reference"].(string)
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pln := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	pur := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)["purchase"].(map[string]any)["reference"].(string)
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_authenticationRequired"}`)
	w.must(200, "POST", "/v1/purchases/"+pur+"/advance-clock", `{"days":32}`)
	w.eventTypes(pur, "purchase.past_due")
	// the renewal and, on the advanced clock, the first retry both asked: each has its event, and
	// the newest carries the page the purchase waits on
	auth, err := w.st.OpenPaymentAuthentication(context.Background(), w.merchant, pur)
	if err != nil {
		t.Fatal(err)
	}
	failed := w.must(200, "GET", "/v1/transactions?status=failed&purchaseRef="+pur, "")["data"].([]any)
	if len(failed) == 0 {
		t.Fatal("no failed payment")
	}
	for i, f := range failed {
		txn := f.(map[string]any)["reference"].(string)
		if got := w.eventTypes(txn, "payment.failed", "payment.requires_action"); len(got) != 2 {
			t.Fatalf("events of %s: %v", txn, got)
		}
		ev := w.must(200, "GET", "/v1/events?type=payment.requires_action&objectRef="+txn, "")["data"].([]any)[0].(map[string]any)
		obj := ev["object"].(map[string]any)
		link, _ := obj["payUrl"].(string)
		if obj["reference"] != txn || obj["status"] != "failed" || obj["failureCode"] != "authentication_required" ||
			obj["amount"] != float64(4900) || !strings.HasPrefix(link, "https://billing.example.com/pay/pay_") ||
			(i == 0) != (link == "https://billing.example.com/pay/"+auth.Token) ||
			ev["objectType"] != "transaction" || ev["mode"] != "sandbox" {
			t.Fatalf("payment.requires_action of %s (newest: %v; open page %s): %v", txn, i == 0, auth.Token, ev)
		}
	}
}
