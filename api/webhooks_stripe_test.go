//go:build !fuzzonly

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
)

const webhookSecret = "whsec_test_tollgateReplayQ4x"

// stripeTruth is Stripe as far as the test's purchases go: each charge gets the next
// PaymentIntent id of the recorded events (testdata/stripe_events.json) and answers as the
// story says (succeeded, or processing); LookupPayment answers what Stripe knows at the end of
// the story. Refunds Tollgate asks for are kept, and answered by id only (no metadata), so a
// webhook about one is known by its re_… id alone.
type stripeTruth struct {
	mu       sync.Mutex
	ids      []string                         // PaymentIntent ids to hand out, in charge order
	answers  map[string]string                // pi → the charge's answer
	byKey    map[string]payments.ChargeResult // our key → the charge made under it
	facts    map[string]payments.PaymentFacts // pi → the truth at the end of the story
	refunds  []payments.RefundInput
	refundID []string // re_… ids of Tollgate's refunds, in order
}

func (s *stripeTruth) Name() string { return "stripe" }
func (s *stripeTruth) EnsureCustomer(_ context.Context, in payments.CustomerInput) (string, error) {
	if in.ExistingID != "" {
		return in.ExistingID, nil
	}
	return "cus_" + in.CustomerRef, nil
}
func (s *stripeTruth) AttachPaymentMethod(_ context.Context, in payments.AttachInput) (payments.Card, error) {
	return payments.Card{PaymentMethod: in.PaymentMethod, Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2030}, nil
}
func (s *stripeTruth) Charge(_ context.Context, in payments.ChargeInput) (payments.ChargeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res, ok := s.byKey[in.IdempotencyKey]; ok {
		return res, nil
	}
	if len(s.ids) == 0 {
		return payments.ChargeResult{}, &payments.DeclineError{Code: "card_declined", Message: "no PaymentIntent left in the story"}
	}
	pi := s.ids[0]
	s.ids = s.ids[1:]
	res := payments.ChargeResult{ProcessorRef: pi, Status: s.answers[pi]}
	s.byKey[in.IdempotencyKey] = res
	return res, nil
}
func (s *stripeTruth) FindCharge(_ context.Context, in payments.FindChargeInput) (payments.ChargeResult, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, ok := s.byKey[in.IdempotencyKey]
	return res, ok, nil
}
func (s *stripeTruth) Refund(_ context.Context, in payments.RefundInput) (payments.RefundResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.refunds {
		if r.IdempotencyKey == in.IdempotencyKey {
			return payments.RefundResult{ProcessorRef: s.refundID[i], Status: "succeeded"}, nil
		}
	}
	s.refunds = append(s.refunds, in)
	id := fmt.Sprintf("re_3QpXA1LkdIwHu7ix0Tollgate%s", strings.Repeat("x", len(s.refunds)-1))
	s.refundID = append(s.refundID, id)
	return payments.RefundResult{ProcessorRef: id, Status: "succeeded"}, nil
}
func (s *stripeTruth) LookupPayment(_ context.Context, ref string) (payments.PaymentFacts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.facts[ref]
	if !ok {
		return f, &payments.DeclineError{Code: "resource_missing", Message: "No such payment_intent: " + ref}
	}
	return f, nil
}

var _ payments.PaymentLookup = (*stripeTruth)(nil)

// newWebhookWorld is a world whose processor is stripeTruth, with live (not sandbox) purchases
// (its env speaks with a live key), a worker, and the Stripe webhook endpoint.
func newWebhookWorld(t *testing.T, truth *stripeTruth) *world {
	t.Helper()
	tc := testenv.Temporal(t)
	w := newWorld(t, func(c *api.Config) {
		c.Payments = truth
		c.StripeWebhookSecret = webhookSecret
		c.Temporal = tc
		c.Starter = testenv.Lifecycle(t, tc, &activities.Activities{Store: c.Store, Payments: truth})
	})
	w.env.key = domain.NewSecretRef("sk_live")
	if err := w.st.AddAPIKey(context.Background(), w.merchant, w.env.key, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	return w
}

// deliver posts a payload to the webhook as Stripe would, signed with secret at time at.
func (e *env) deliver(payload []byte, secret string, at time.Time) (int, map[string]any) {
	e.t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return e.webhook(payload, signed.Header, "Content-Type", "application/json; charset=utf-8")
}

// webhook posts body to POST /v1/webhooks/stripe without an API key, with signature as its
// Stripe-Signature (none when empty), and decodes the answer.
func (e *env) webhook(body []byte, signature string, headers ...string) (int, map[string]any) {
	e.t.Helper()
	if signature != "" {
		headers = append(headers, "Stripe-Signature", signature)
	}
	return (&env{t: e.t, srv: e.srv}).do("POST", "/v1/webhooks/stripe", string(body), headers...)
}

// TestStripeEventsInAnyOrder replays a recorded set of Stripe events — settlements, refunds made
// in the dashboard and by Tollgate, disputes won, lost and open, a detached card, events about
// objects Tollgate never made — shuffled and delivered twice over, and checks that every
// purchase, its transactions and Stripe's own record end where the story ends.
func TestStripeEventsInAnyOrder(t *testing.T) {
	raw, err := os.ReadFile("testdata/stripe_events.json")
	if err != nil {
		t.Fatal(err)
	}
	var events []json.RawMessage
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	pi := func(k string) string { return "pi_3QpX" + k + "1LkdIwHu7ix0" + k + "Ab9Cd" }
	const reA, reE = "re_3QpXA1LkdIwHu7ix0Dashbrd", "re_3QpXE1LkdIwHu7ix0Dashbrd"
	story := "ABCDEFP"
	truth := &stripeTruth{answers: map[string]string{}, byKey: map[string]payments.ChargeResult{}}
	for _, k := range story {
		id := pi(string(k))
		truth.ids = append(truth.ids, id)
		truth.answers[id] = payments.PaymentSucceeded
	}
	truth.answers[pi("D")], truth.answers[pi("P")] = payments.PaymentProcessing, payments.PaymentProcessing
	w := newWebhookWorld(t, truth)

	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	plan := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	purchases, customers := map[string]string{}, map[string]string{}
	for _, k := range story {
		key := string(k)
		cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"`+key+`@acme.com"}`)["reference"].(string)
		w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_1QpX`+key+`2LkdIwHu7ixCard`+key+`"}`)
		res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+plan+`"}`)
		purchases[key], customers[key] = res["purchase"].(map[string]any)["reference"].(string), cus
	}
	// a processing payment gives access but is not paid yet
	if p := w.must(200, "GET", "/v1/purchases/"+purchases["P"], ""); p["status"] != "active" || p["paymentProcessing"] != true ||
		p["paidTotal"].(float64) != 0 || p["hasAccess"] != true {
		t.Fatalf("processing purchase: %v", p)
	}
	w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+w.payment(purchases["A"])+`","amount":500}`, "Idempotency-Key", "refund-A")

	// Stripe at the end of the story
	truth.mu.Lock()
	tollgateRefund := payments.RefundFacts{ID: truth.refundID[0], Amount: 500, Status: "succeeded"} // no metadata: known by id
	truth.facts = map[string]payments.PaymentFacts{
		pi("A"): {PaymentRef: pi("A"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k",
			Refunds: []payments.RefundFacts{{ID: reA, Amount: 1000, Status: "succeeded"}, tollgateRefund}},
		pi("B"): {PaymentRef: pi("B"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k",
			Disputes: []payments.DisputeFacts{{ID: "dp_1QpXB1LkdIwHu7ixLost", Amount: 4900, Status: "lost"}}},
		pi("C"): {PaymentRef: pi("C"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k",
			Disputes: []payments.DisputeFacts{{ID: "dp_1QpXC1LkdIwHu7ixWon0", Amount: 4900, Status: "won"}}},
		pi("D"): {PaymentRef: pi("D"), Status: "failed", FailureCode: "insufficient_funds", Amount: 4900, Currency: "USD", Key: "k"},
		pi("E"): {PaymentRef: pi("E"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k",
			Refunds: []payments.RefundFacts{{ID: reE, Amount: 4900, Status: "succeeded"}}},
		pi("F"): {PaymentRef: pi("F"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k",
			Disputes: []payments.DisputeFacts{{ID: "dp_1QpXF1LkdIwHu7ixOpen", Amount: 4900, Status: "needs_response"}}},
		pi("P"): {PaymentRef: pi("P"), Status: "succeeded", Amount: 4900, Currency: "USD", Key: "k"},
	}
	truth.mu.Unlock()

	deliveries := append(append([]json.RawMessage{}, events...), events...)
	rng := rand.New(rand.NewPCG(14, uint64(time.Now().UnixNano())))
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	for _, ev := range deliveries {
		if status, body := w.deliver(ev, webhookSecret, time.Now()); status != 200 || body["received"] != true {
			t.Fatalf("deliver %.80s: %d %v", ev, status, body)
		}
	}

	want := map[string]struct {
		status              string
		paid, refunded      float64
		disputed, access    bool
		payments, refunds   int
		failedPayments      int
		refundReasonsSuffix string
	}{
		"A": {status: "active", paid: 4900, refunded: 1500, access: true, payments: 1, refunds: 2},
		"B": {status: "refunded", paid: 4900, refunded: 4900, payments: 1, refunds: 1, refundReasonsSuffix: "dispute_lost"},
		"C": {status: "active", paid: 4900, access: true, payments: 1},
		"D": {status: "expired", failedPayments: 1},
		"E": {status: "refunded", paid: 4900, refunded: 4900, payments: 1, refunds: 1, refundReasonsSuffix: "refunded_outside_tollgate"},
		"F": {status: "suspended", paid: 4900, disputed: true, payments: 1},
		"P": {status: "active", paid: 4900, access: true, payments: 1},
	}
	for key, want := range want {
		ref := purchases[key]
		var p map[string]any
		eventually(t, "purchase "+key+" to settle", func() bool {
			p = w.must(200, "GET", "/v1/purchases/"+ref, "")
			return p["status"] == want.status && p["paidTotal"].(float64) == want.paid &&
				p["refundedTotal"].(float64) == want.refunded && (p["disputed"] == true) == want.disputed &&
				p["paymentProcessing"] == nil
		})
		if p["hasAccess"] != want.access {
			t.Errorf("purchase %s: %v", key, p)
		}
		txns := w.must(200, "GET", "/v1/transactions?purchaseRef="+ref, "")["data"].([]any)
		var paid, failed, refunds int
		for _, x := range txns {
			txn := x.(map[string]any)
			switch {
			case txn["type"] == "payment" && txn["status"] == "succeeded":
				paid++
			case txn["type"] == "payment" && txn["status"] == "failed":
				failed++
			case txn["type"] == "refund" && txn["status"] == "succeeded":
				refunds++
				if want.refundReasonsSuffix != "" && txn["reason"] != want.refundReasonsSuffix {
					t.Errorf("purchase %s refund %v", key, txn)
				}
			default:
				t.Errorf("purchase %s: unexpected transaction %v", key, txn)
			}
		}
		if paid != want.payments || failed != want.failedPayments || refunds != want.refunds {
			t.Errorf("purchase %s: %d paid, %d failed, %d refunds: %v", key, paid, failed, refunds, txns)
		}
	}
	// the detached card is no longer on file; Stripe saw one charge per purchase and one refund
	eventually(t, "the detached card gone from the customer", func() bool {
		return w.must(200, "GET", "/v1/sdk/payment-method?customerRef="+customers["A"], "")["kind"] == "none"
	})
	if pm := w.must(200, "GET", "/v1/sdk/payment-method?customerRef="+customers["B"], ""); pm["kind"] != "card" {
		t.Errorf("another customer's card: %v", pm)
	}
	truth.mu.Lock()
	if len(truth.byKey) != len(story) || len(truth.refunds) != 1 {
		t.Errorf("Stripe saw %d charges and %d refunds", len(truth.byKey), len(truth.refunds))
	}
	truth.mu.Unlock()
	var outcome string
	eventually(t, "the event about a payment Tollgate never made", func() bool {
		var processed bool
		processed, outcome, _ = w.st.ProcessorEventOutcome(context.Background(), "evt_3QpX20LkdIwHu7ix0Recorded")
		return processed
	})
	if !strings.HasPrefix(outcome, "ignored") {
		t.Errorf("event about a payment Tollgate never made: %q", outcome)
	}
}

// payment is the payment transaction of a purchase.
func (w *world) payment(purchaseRef string) string {
	w.t.Helper()
	for _, x := range w.must(200, "GET", "/v1/transactions?purchaseRef="+purchaseRef, "")["data"].([]any) {
		if txn := x.(map[string]any); txn["type"] == "payment" {
			return txn["reference"].(string)
		}
	}
	w.t.Fatalf("purchase %s has no payment", purchaseRef)
	return ""
}

// eventually polls cond for up to 30 s: webhooks are processed after they are answered.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStripeWebhookRefusesBadInput: a missing, forged, tampered or stale signature, a signed
// body that is not an event, and an oversized body are each a 400 in the one error shape that
// names the field, and record nothing; an authentic event of a type Tollgate does not act on is
// acknowledged and ignored; without a signing secret the route is unavailable, not open.
func TestStripeWebhookRefusesBadInput(t *testing.T) {
	w := newWorld(t, func(c *api.Config) { c.StripeWebhookSecret = webhookSecret })
	event := []byte(`{"id":"evt_bad1","object":"event","type":"charge.refunded","api_version":"2023-10-16","created":1764505000,
		"data":{"object":{"id":"ch_1","object":"charge","payment_intent":"pi_1","metadata":{}}}}`)
	sign := func(body []byte, secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	}
	tampered := []byte(strings.Replace(string(event), "pi_1", "pi_2", 1))
	for _, c := range []struct {
		name, signature string
		body            []byte
		code, field     string
	}{
		{"no signature", "", event, "MISSING_FIELD", "Stripe-Signature"},
		{"another endpoint's secret", sign(event, "whsec_other", time.Now()), event, "INVALID_FIELD", "Stripe-Signature"},
		{"six minutes old", sign(event, webhookSecret, time.Now().Add(-6*time.Minute)), event, "INVALID_FIELD", "Stripe-Signature"},
		{"tampered body", sign(event, webhookSecret, time.Now()), tampered, "INVALID_FIELD", "Stripe-Signature"},
		{"garbage header", "t=abc,v1=zz", event, "INVALID_FIELD", "Stripe-Signature"},
		{"signed, not JSON", sign([]byte("not json"), webhookSecret, time.Now()), []byte("not json"), "INVALID_FIELD", "body"},
		{"signed, no id", sign([]byte(`{"type":"charge.refunded"}`), webhookSecret, time.Now()), []byte(`{"type":"charge.refunded"}`), "INVALID_FIELD", "id"},
		{"too big", "t=1,v1=00", make([]byte, 2<<20), "INVALID_FIELD", "body"},
	} {
		status, body := w.webhook(c.body, c.signature)
		e, _ := body["error"].(map[string]any)
		if status != 400 || e["code"] != c.code || e["field"] != c.field || e["message"] == "" {
			t.Errorf("%s: %d %v", c.name, status, body)
		}
	}
	other := []byte(`{"id":"evt_bad2","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","object":"invoice"}}}`)
	if status, body := w.webhook(other, sign(other, webhookSecret, time.Now())); status != 200 || body["ignored"] == nil {
		t.Errorf("unknown event type: %d %v", status, body)
	}
	for _, id := range []string{"evt_bad1", "evt_bad2"} {
		if _, _, err := w.st.ProcessorEventOutcome(context.Background(), id); err == nil {
			t.Errorf("%s was recorded", id)
		}
	}
	// no worker here: an authentic event is recorded, and answered 503 so Stripe delivers it again
	if status, body := w.webhook(event, sign(event, webhookSecret, time.Now())); status != 503 {
		t.Errorf("no Temporal: %d %v", status, body)
	}
	if status, body := newWorld(t).webhook(event, sign(event, "", time.Now())); status != 503 {
		t.Errorf("no signing secret: %d %v", status, body)
	}
}

// TestDisputeSettings: a merchant's disputes suspend access by default; the merchant can keep
// access instead; anything else is refused and changes nothing.
func TestDisputeSettings(t *testing.T) {
	w := newWorld(t)
	if got := w.must(200, "GET", "/v1/settings/disputes", ""); got["access"] != "suspend" {
		t.Fatalf("default: %v", got)
	}
	if status, body := w.do("PATCH", "/v1/settings/disputes", `{"access":"maybe"}`); status != 400 ||
		body["error"].(map[string]any)["field"] != "access" {
		t.Fatalf("bad access: %d %v", status, body)
	}
	w.must(200, "PATCH", "/v1/settings/disputes", `{"access":"keep"}`)
	if got := w.must(200, "GET", "/v1/settings/disputes", ""); got["access"] != "keep" {
		t.Fatalf("after keep: %v", got)
	}
	if got := w.asB().must(200, "GET", "/v1/settings/disputes", ""); got["access"] != "suspend" {
		t.Fatalf("another merchant: %v", got)
	}
}
