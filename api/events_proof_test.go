//go:build !fuzzonly

package api_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/web"
)

// emitted is an event a row's action must cause: its type and the object it is about.
type emitted struct{ typ, object string }

// proofRow is one action a merchant or its customer takes (through the REST API, the hosted
// pages or the test clock) and the events it must cause.
type proofRow struct {
	action string
	do     func(p *proof) []emitted
}

// notEmittedYet are the event types no action emits yet, and why; every other type of
// domain.EventTypes must be emitted by a row of proofRows. A feature that emits one of these
// removes it here and adds its row.
var notEmittedYet = map[string]string{}

// proofRows: add a row when an action gains an event. Rows run in order on one merchant; a row
// may build on the purchases earlier rows left (p.pur).
var proofRows = []proofRow{
	{"a customer is created, changed and deleted", func(p *proof) []emitted {
		cus := p.customer("gone@acme.com")
		p.must(200, "PATCH", "/v1/sdk/customers/"+cus, `{"name":"Gone Soon"}`)
		p.must(200, "DELETE", "/v1/sdk/customers/"+cus, "")
		return []emitted{{"customer.created", cus}, {"customer.updated", cus}, {"customer.deleted", cus}}
	}},
	{"a purchase is activated with the customer's card", func(p *proof) []emitted {
		p.pur["jane"] = p.activate(p.customerWithCard("jane@acme.com", "pm_card_visa"), p.pro)
		pay := p.payments(p.pur["jane"])[0]
		inv := p.one("/v1/invoices?purchaseRef=" + p.pur["jane"])
		return []emitted{{"purchase.activated", p.pur["jane"]}, {"payment.succeeded", pay}, {"invoice.created", inv},
			{"invoice.paid", inv}}
	}},
	{"its renewal is cancelled, then reactivated", func(p *proof) []emitted {
		p.must(200, "POST", "/v1/purchases/"+p.pur["jane"]+"/cancel-renewal", `{"reason":"too dear"}`)
		p.must(200, "POST", "/v1/purchases/"+p.pur["jane"]+"/reactivate", "")
		return []emitted{{"purchase.cancel_scheduled", p.pur["jane"]}, {"purchase.reactivated", p.pur["jane"]}}
	}},
	{"the test clock passes its period end", func(p *proof) []emitted {
		p.advance(p.pur["jane"], 32)
		return []emitted{{"purchase.renewed", p.pur["jane"]}}
	}},
	{"it changes plan", func(p *proof) []emitted {
		p.must(200, "POST", "/v1/purchases/"+p.pur["jane"]+"/change-plan", `{"planRef":"`+p.team+`"}`)
		return []emitted{{"purchase.plan_changed", p.pur["jane"]}}
	}},
	{"it is paused, then resumed", func(p *proof) []emitted {
		p.must(200, "POST", "/v1/purchases/"+p.pur["jane"]+"/pause", `{"behavior":"keep_access"}`)
		p.must(200, "POST", "/v1/purchases/"+p.pur["jane"]+"/resume", `{"anchor":"keep"}`)
		return []emitted{{"purchase.paused", p.pur["jane"]}, {"purchase.resumed", p.pur["jane"]}}
	}},
	{"a new purchase's payment is refunded in full", func(p *proof) []emitted {
		pur := p.activate(p.customerWithCard("kim@acme.com", "pm_card_visa"), p.pro)
		refund := p.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+p.payments(pur)[0]+`"}`)["reference"].(string)
		return []emitted{{"refund.succeeded", refund}, {"credit_note.created", p.one("/v1/credit-notes?purchaseRef=" + pur)},
			{"purchase.refunded", pur}}
	}},
	{"a processing payment (4000 0000 0000 7726) fails after it was accepted", func(p *proof) []emitted {
		pur := p.activate(p.customerWithCard("slow@acme.com", "pm_card_sandbox_processing"), p.pro)
		pay := p.payments(pur)[0]
		inv := p.one("/v1/invoices?status=open&purchaseRef=" + pur)
		p.must(200, "POST", "/v1/sandbox/transactions/"+pay+"/settle", `{"outcome":"failed"}`)
		eventually(p.t, "the open invoice is voided", func() bool {
			return p.must(200, "GET", "/v1/invoices/"+inv, "")["status"] == "void"
		})
		return []emitted{{"invoice.created", inv}, {"payment.failed", pay}, {"invoice.voided", inv}}
	}},
	{"a refund the card's bank refuses (4000 0000 0000 5126)", func(p *proof) []emitted {
		pur := p.activate(p.customerWithCard("rex@acme.com", "pm_card_refundFail"), p.pro)
		pay := p.payments(pur)[0]
		if status, body := p.do("POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`"}`); status != 409 {
			p.t.Fatalf("a refused refund: %d %v", status, body)
		}
		// the refused refund leaves no transaction: its event is found by the payment it refunded
		for _, ev := range p.must(200, "GET", "/v1/events?type=refund.failed", "")["data"].([]any) {
			if m := ev.(map[string]any); m["object"].(map[string]any)["sourceTransactionRef"] == pay {
				return []emitted{{"refund.failed", m["objectRef"].(string)}}
			}
		}
		p.t.Fatalf("no refund.failed event about %s", pay)
		return nil
	}},
	{"a renewal fails, dunning's grace ends, a retry with a new card pays", func(p *proof) []emitted {
		cus := p.customerWithCard("bob@acme.com", "pm_card_visa")
		bob := p.activate(cus, p.pro)
		p.pur["bob"] = bob
		p.card(cus, "pm_card_chargeCustomerFail")
		p.advance(bob, 32)
		p.advance(bob, 4)
		p.card(cus, "pm_card_visa")
		p.must(200, "POST", "/v1/purchases/"+bob+"/retry-payment", "")
		failed := p.one("/v1/transactions?status=failed&purchaseRef=" + bob)
		return []emitted{{"purchase.past_due", bob}, {"payment.failed", failed}, {"purchase.suspended", bob},
			{"purchase.recovered", bob}}
	}},
	{"a renewal cancelled runs to its period end", func(p *proof) []emitted {
		p.must(200, "POST", "/v1/purchases/"+p.pur["bob"]+"/cancel-renewal", "")
		p.advance(p.pur["bob"], 40)
		return []emitted{{"purchase.cancelled", p.pur["bob"]}}
	}},
	{"a trial starts, converts, and its renewals fail until dunning ends it", func(p *proof) []emitted {
		cus := p.customerWithCard("cat@acme.com", "pm_card_visa")
		cat := p.activate(cus, p.trial)
		p.advance(cat, 8)
		p.card(cus, "pm_card_chargeCustomerFail")
		p.advance(cat, 32)
		p.advance(cat, 10)
		return []emitted{{"purchase.trial_started", cat}, {"purchase.expired", cat}}
	}},
	{"a renewal the bank wants authenticated (3-D Secure)", func(p *proof) []emitted {
		cus := p.customerWithCard("sca@acme.com", "pm_card_visa")
		pur := p.activate(cus, p.pro)
		p.card(cus, "pm_card_authenticationRequired")
		p.advance(pur, 31)
		return []emitted{{"payment.requires_action", p.one("/v1/transactions?status=failed&purchaseRef=" + pur)}}
	}},
	{"a customer pays on the hosted checkout page", func(p *proof) []emitted {
		cus := p.customer("dan@acme.com")
		cs := p.must(201, "POST", "/v1/checkout-sessions", `{"customerRef":"`+cus+`","productRef":"`+p.prd+`","planRef":"`+p.pro+`"}`)
		ref := cs["reference"].(string)
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		page := p.page(browser, "GET", cs["url"].(string), nil)
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			p.t.Fatalf("no form on the checkout page:\n%s", page)
		}
		p.page(browser, "POST", cs["url"].(string), url.Values{"number": {"4242 4242 4242 4242"}, "exp": {"12 / 34"},
			"cvc": {"123"}, "name": {"Dan Brown"}, "csrf_token": {html.UnescapeString(m[1])}})
		return []emitted{{"checkout.completed", ref}}
	}},
	{"a customer's usage reaches 80% of its limit, then the limit", func(p *proof) []emitted {
		// through single events, a bulk call and a consume: each event is emitted once (not
		// again past the limit, nor for a retried event), with the customer, product, meter,
		// period, limit and units used
		customer := p.customer("meter@acme.com")
		product := p.must(201, "POST", "/v1/products", `{"name":"metered-bot"}`)["reference"].(string)
		p.must(201, "POST", "/v1/products/"+product+"/plans",
			`{"name":"Free","type":"free","freeUnits":10,"limit":10,"meterName":"requests","isDefault":true}`)
		use := func(i, units int) {
			p.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":%d,"idempotencyKey":"u%d"}`,
				customer, product, units, i))
		}
		use(0, 5)
		if n := p.must(200, "GET", "/v1/events?type=usage.threshold_reached", "")["total"]; n != float64(0) {
			p.t.Fatalf("threshold events at 5 of 10: %v", n)
		}
		use(1, 3) // 8 of 10: the threshold
		p.must(201, "POST", "/v1/usages/bulk", fmt.Sprintf(`{"events":[{"customerRef":%q,"productRef":%q,"units":1,"idempotencyKey":"b1"},
			{"customerRef":%q,"productRef":%q,"units":0,"idempotencyKey":"b2"}]}`, customer, product, customer, product))
		p.must(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":1,"mode":"consume","idempotencyKey":"c1"}`,
			customer, product)) // 10 of 10: the limit
		use(2, 4) // past the limit: nothing more, nor for a retried event
		p.must(200, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"units":3,"idempotencyKey":"u1"}`, customer, product))

		marks := map[string]map[string]any{}
		for _, typ := range []string{"usage.threshold_reached", "usage.limit_reached"} {
			l := p.must(200, "GET", "/v1/events?type="+typ, "")
			if l["total"] != float64(1) {
				p.t.Fatalf("%s: %v", typ, l)
			}
			ev := l["data"].([]any)[0].(map[string]any)
			obj := ev["object"].(map[string]any)
			marks[typ] = obj
			if ev["objectType"] != "usage" || obj["customerRef"] != customer || obj["productRef"] != product ||
				obj["meterName"] != "requests" || obj["limit"] != float64(10) || obj["periodStart"] == nil {
				p.t.Fatalf("%s: %v", typ, ev)
			}
			if got := p.must(200, "GET", "/v1/events/"+ev["reference"].(string), ""); fmt.Sprint(got) != fmt.Sprint(ev) {
				p.t.Fatalf("GET %s: %v, listed %v", ev["reference"], got, ev)
			}
		}
		if th, lim := marks["usage.threshold_reached"], marks["usage.limit_reached"]; th["threshold"] != float64(8) || th["used"] != float64(8) ||
			lim["threshold"] != float64(10) || lim["used"] != float64(10) {
			p.t.Fatalf("marks: %v, %v", th, lim)
		}
		return []emitted{{"usage.threshold_reached", customer}, {"usage.limit_reached", customer}}
	}},
	{"an endpoint that has failed every delivery for 5 days fails once more", func(p *proof) []emitted {
		down := newReceiver(p.t)
		down.fail503 = true
		we := p.must(201, "POST", "/v1/webhook-endpoints", `{"url":"`+down.url+`","enabledEvents":["customer.created"]}`)["reference"].(string)
		// Deliveries run on the wall clock, not the test clock: the five days of failures are
		// written as the endpoint's failingSince rather than waited for.
		if _, err := p.st.Pool.Exec(context.Background(), `UPDATE webhook_endpoints SET failing_since = now() - interval '5 days'
			WHERE id = $1`, we); err != nil {
			p.t.Fatal(err)
		}
		p.customer("trigger@acme.com")
		return []emitted{{"webhook_endpoint.disabled", we}}
	}},
}

// proof is the world the rows act in: one merchant, a catalog, and a receiver of every event.
type proof struct {
	*world
	prd, pro, team, trial string
	pur                   map[string]string // purchases rows leave for later rows
}

func (p *proof) customer(email string) string {
	return p.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`","name":"Jane Smith"}`)["reference"].(string)
}

func (p *proof) card(cus, pm string) {
	p.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"`+pm+`"}`)
}

func (p *proof) customerWithCard(email, pm string) string {
	cus := p.customer(email)
	p.card(cus, pm)
	return cus
}

func (p *proof) activate(cus, pln string) string {
	res := p.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+p.prd+`","planRef":"`+pln+`"}`)
	return res["purchase"].(map[string]any)["reference"].(string)
}

func (p *proof) advance(pur string, days int) {
	p.must(200, "POST", "/v1/purchases/"+pur+"/advance-clock", `{"days":`+strconv.Itoa(days)+`}`)
}

// one is the reference of the newest item of a list.
func (p *proof) one(path string) string {
	p.t.Helper()
	l := p.must(200, "GET", path, "")["data"].([]any)
	if len(l) == 0 {
		p.t.Fatalf("%s: empty", path)
	}
	return l[0].(map[string]any)["reference"].(string)
}

// page sends a browser's request to a hosted page and answers its HTML; any status but 200 fails.
func (p *proof) page(c *http.Client, method, u string, form url.Values) string {
	p.t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		p.t.Fatalf("%s %s: %d\n%s", method, u, resp.StatusCode, b)
	}
	return string(b)
}

// Every event type is emitted by the action that causes it (issue 15 point 7): each row drives
// the REST API, the hosted checkout or the test clock, its events are listed about the right
// object, and a receiver on loopback gets each one with a signature the Standard Webhooks
// library (not Tollgate's code) verifies.
func TestEveryEventTypeIsEmittedByItsActionAndDelivered(t *testing.T) {
	w := deliveryWorld(t, func(c *api.Config) {
		pages := web.New(web.Config{Store: c.Store, Payments: c.Payments, Lifecycle: web.FromStarter(c.Starter)})
		c.Extra = map[string]http.Handler{"/checkout/": pages, "/assets/": pages}
	})
	w.st.PublicURL = w.env.srv.URL
	rc := newReceiver(t)
	ep := w.must(201, "POST", "/v1/webhook-endpoints", `{"url":"`+rc.url+`"}`)
	rc.secrets = []string{ep["secret"].(string)}
	p := &proof{world: w, pur: map[string]string{}}
	p.prd = w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	plan := func(body string) string {
		return w.must(201, "POST", "/v1/products/"+p.prd+"/plans", body)["reference"].(string)
	}
	p.pro = plan(`{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)
	p.team = plan(`{"name":"Team","type":"recurring","price":9900,"currency":"USD"}`)
	p.trial = plan(`{"name":"Trial","type":"recurring","price":4900,"currency":"USD","trialDays":7}`)

	covered := map[string]bool{}
	var delivered []string // the events the receiver must get
	for _, row := range proofRows {
		if !t.Run(row.action, func(t *testing.T) {
			p.env = &env{t: t, srv: w.env.srv, key: w.env.key}
			for _, e := range row.do(p) {
				w.eventTypes(e.object, e.typ)
				l := p.must(200, "GET", "/v1/events?type="+e.typ+"&objectRef="+e.object, "")["data"].([]any)
				ev := l[0].(map[string]any)
				if ev["objectRef"] != e.object || ev["mode"] != "sandbox" {
					t.Fatalf("%s event: %v", e.typ, ev)
				}
				covered[e.typ] = true
				delivered = append(delivered, ev["reference"].(string))
			}
		}) {
			t.FailNow()
		}
	}
	p.env = w.env
	for _, typ := range domain.EventTypes {
		if !covered[typ] && notEmittedYet[typ] == "" {
			t.Errorf("no row emits %s: add one to proofRows", typ)
		}
		if covered[typ] && notEmittedYet[typ] != "" {
			t.Errorf("%s is emitted: remove it from notEmittedYet", typ)
		}
	}
	for _, ev := range delivered {
		waitLong(t, "the delivery of "+ev, func() bool { return rc.delivered(ev) > 0 })
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.bad != 0 {
		t.Fatalf("%d deliveries failed the Standard Webhooks verification", rc.bad)
	}
	types := slices.Sorted(maps.Keys(covered))
	t.Logf("%d event types emitted by their actions; %d events delivered and verified: %v", len(types), len(delivered), types)
}
