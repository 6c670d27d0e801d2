//go:build !fuzzonly

package api_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestRefundsForTheLifeOfThePayment refunds payments while the processor accepts them (180 days
// on the purchase's clock), also once the purchase has ended and its workflow has closed, and
// never twice for one request: two identical requests at once and a later retry, all without an
// Idempotency-Key, refund once; two refunds at once that together exceed the payment refund
// one. A payment past the window is refused with REFUND_WINDOW_CLOSED and nothing changes.
func TestRefundsForTheLifeOfThePayment(t *testing.T) {
	w := newLifecycleWorld(t)
	ledger := sandbox.New(w.st.Pool)
	prd := w.must(201, "POST", "/v1/products", `{"name":"weather-api"}`)["reference"].(string)
	plan := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":1000,"currency":"USD"}`)["reference"].(string)
	buy := func(email string) (purchase, payment string) {
		cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`"}`)["reference"].(string)
		w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+plan+`"}`)
		purchase = res["purchase"].(map[string]any)["reference"].(string)
		return purchase, w.payments(purchase)[0]
	}
	a, payA := buy("a@acme.com")
	w.closeOut(a)

	// Two identical requests at once, then the client's retry, all without a key: one refund.
	body := `{"sourceTransactionRef":"` + payA + `","amount":300,"reason":"late goodwill"}`
	answers := w.concurrently([2]string{body, body}, [2]string{})
	first := answers[0].body
	for _, ans := range answers {
		if ans.status != 201 || ans.body["reference"] != first["reference"] || ans.body["amount"].(float64) != 300 {
			t.Fatalf("identical refund requests of a closed purchase's payment: %d %v and %v", ans.status, ans.body, first)
		}
	}
	if again := w.must(201, "POST", "/v1/refunds", body); again["reference"] != first["reference"] || again["purchaseStatus"] != "cancelled" {
		t.Fatalf("the same request retried: %v then %v", first, again)
	}
	// Two other refunds at once, 500 each of the 700 left: one is made, the other refused.
	answers = w.concurrently([2]string{`{"sourceTransactionRef":"` + payA + `","amount":500}`,
		`{"sourceTransactionRef":"` + payA + `","amount":500}`}, [2]string{"k1", "k2"})
	if made, refused := answers[0], answers[1]; made.status != 201 {
		answers[0], answers[1] = refused, made
	}
	if answers[0].status != 201 || answers[1].status != 400 || errField(answers[1].body) != "amount" {
		t.Fatalf("refunds above the payment at once: %d %v and %d %v", answers[0].status, answers[0].body,
			answers[1].status, answers[1].body)
	}
	refunds, err := ledger.Refunds(context.Background(), a+"/")
	if err != nil || len(refunds) != 2 || refunds[0].Amount+refunds[1].Amount != 800 {
		t.Fatalf("the processor's refunds: %v %+v", err, refunds)
	}
	if l := w.must(200, "GET", "/v1/transactions?type=refund&purchaseRef="+a, ""); l["total"].(float64) != 2 {
		t.Fatalf("refunds in transactions: %v", l)
	}
	if p := w.must(200, "GET", "/v1/transactions/"+payA, ""); p["refundedAmount"].(float64) != 800 {
		t.Fatalf("the payment: %v", p)
	}
	if p := w.must(200, "GET", "/v1/purchases/"+a, ""); p["refundedTotal"].(float64) != 800 || p["status"] != "cancelled" {
		t.Fatalf("the purchase: %v", p)
	}

	// A purchase 200 days on: its first payment is past the window, whether its workflow runs
	// (and no longer holds the payment) or has closed. Its latest payment still refunds.
	b, payB := buy("b@acme.com")
	w.must(200, "POST", "/v1/purchases/"+b+"/advance-clock", `{"days":200}`)
	before := w.rowCounts()
	w.refusedForAge(payB)
	w.closeOut(b)
	w.refusedForAge(payB)
	if after := w.rowCounts(); after["transactions"] != before["transactions"] || after["sandbox_refunds"] != before["sandbox_refunds"] ||
		after["purchase_grants"] != before["purchase_grants"] {
		t.Fatalf("a refused refund changed something: %v then %v", before, after)
	}
	pays := w.payments(b)
	latest := w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pays[len(pays)-1]+`"}`)
	if latest["amount"].(float64) != 1000 || latest["full"] != true {
		t.Fatalf("refund of the latest payment: %v", latest)
	}
}

// refusedForAge asserts a refund of payment is refused for its age.
func (w *world) refusedForAge(payment string) {
	w.t.Helper()
	status, body := w.do("POST", "/v1/refunds", `{"sourceTransactionRef":"`+payment+`"}`)
	if status != 409 || errCode(body) != "REFUND_WINDOW_CLOSED" || errField(body) != "sourceTransactionRef" {
		w.t.Fatalf("refund of a payment older than 180 days: %d %v", status, body)
	}
}

// payments lists a purchase's payments, the first period's first.
func (w *world) payments(purchase string) []string {
	w.t.Helper()
	l := w.must(200, "GET", "/v1/transactions?type=payment&limit=100&purchaseRef="+purchase, "")
	var ps []map[string]any
	for _, p := range l["data"].([]any) {
		ps = append(ps, p.(map[string]any))
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i]["period"].(float64) < ps[j]["period"].(float64) })
	var out []string
	for _, p := range ps {
		out = append(out, p["reference"].(string))
	}
	return out
}

// closeOut ends a sandbox purchase (renewal cancelled, period over) and moves its test clock past
// the 30 days its workflow stays open, then waits for the workflow to close.
func (w *world) closeOut(purchase string) {
	w.t.Helper()
	w.must(200, "POST", "/v1/purchases/"+purchase+"/cancel-renewal", `{}`)
	if p := w.must(200, "POST", "/v1/purchases/"+purchase+"/advance-clock", `{"days":32}`); p["status"] != "cancelled" {
		w.t.Fatalf("after the period end: %v", p)
	}
	w.must(200, "POST", "/v1/purchases/"+purchase+"/advance-clock", `{"days":31}`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := w.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(purchase), "")
		if err != nil {
			w.t.Fatal(err)
		}
		if d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the workflow of %s is still %s", purchase, d.WorkflowExecutionInfo.Status)
		}
	}
}

type answerOf struct {
	status int
	body   map[string]any
}

// concurrently posts two refund requests at once (each with its Idempotency-Key, none when empty).
func (w *world) concurrently(bodies, keys [2]string) [2]answerOf {
	var out [2]answerOf
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var headers []string
			if keys[i] != "" {
				headers = []string{"Idempotency-Key", keys[i]}
			}
			out[i].status, out[i].body = w.do("POST", "/v1/refunds", bodies[i], headers...)
		}()
	}
	wg.Wait()
	return out
}
