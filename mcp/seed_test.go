package mcp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
)

// TestSeedConversation replays seeds 000/001 call by call, through the Go SDK's client over
// Streamable HTTP at /mcp with the merchant's key, against a running API with real Postgres, the
// embedded Temporal server and the purchase worker, and checks the facts of every answer.
// Seed 001's parameter spellings (customerId, productReference, purchaseId,
// sourceTransactionId) are played beside seed 000's.
func TestSeedConversation(t *testing.T) {
	w, tc := newWorldWithWorkflows(t)
	lifecycle := starter.New(tc, w.st)
	cs := w.overHTTP(w.key)

	// "Create a customer for jane@acme.com with the name "Jane Smith""
	a := ok(t, cs, "create_customer", map[string]any{"email": "jane@acme.com", "name": "Jane Smith"})
	jane := a.str("reference")
	if !strings.HasPrefix(jane, "cus_") || a.str("email") != "jane@acme.com" || a.str("name") != "Jane Smith" {
		t.Fatalf("create_customer: %v", a.structured)
	}
	mustContain(t, "create_customer", a.text, "The customer has been created", "Reference: "+jane, "Email: jane@acme.com", "Name: Jane Smith")

	// "Make sure we have a customer for bob@startup.io": twice, the same customer, no duplicate.
	first := ok(t, cs, "ensure_customer", map[string]any{"email": "bob@startup.io", "name": "Bob"})
	bob := first.str("reference")
	second := ok(t, cs, "ensure_customer", map[string]any{"email": "bob@startup.io", "name": "Bob"})
	if !strings.HasPrefix(bob, "cus_") || second.str("reference") != bob || first.structured["created"] != true || second.structured["created"] != false {
		t.Fatalf("ensure_customer: %v then %v", first.structured, second.structured)
	}
	mustContain(t, "ensure_customer", second.text, "A customer for bob@startup.io already exists", "Reference: "+bob, "No duplicate was created.")
	if list := ok(t, cs, "list_customers", map[string]any{"email": "bob@startup.io"}); list.structured["total"] != float64(1) {
		t.Fatalf("customers with bob's email: %v", list.structured)
	}

	// "Create a product called "support-bot""
	a = ok(t, cs, "create_product", map[string]any{"name": "support-bot", "description": "Customer support automation"})
	product := a.str("reference")
	mustContain(t, "create_product", a.text, "support-bot ("+product+")")
	a = ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Pro", "type": "recurring", "price": 4900,
		"currency": "USD", "billingCycle": "monthly", "freeUnits": 100, "limit": 100, "meterName": "api_requests", "isDefault": true})
	plan := a.str("reference")
	mustContain(t, "create_plan", a.text, "Pro ("+plan+")", "$49/month")

	// Jane and Bob buy Pro with a card on file: the purchase workflows take the first payments.
	today := time.Now().UTC()
	purchase := map[string]string{}
	for _, who := range []string{jane, bob} {
		w.rest(200, "POST", "/v1/customers/"+who+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		st, err := lifecycle.Start(w.ctx, starter.StartInput{MerchantRef: w.merchant, CustomerRef: who, PlanRef: plan})
		if err != nil || st.Status != domain.PurchaseActive {
			t.Fatalf("start purchase for %s: %+v %v", who, st, err)
		}
		purchase[who] = st.PurchaseRef
		waitFor(t, "the projection of "+st.PurchaseRef, func() bool {
			p, err := w.st.GetPurchase(w.ctx, w.merchant, st.PurchaseRef)
			return err == nil && p.Status == domain.PurchaseActive
		})
	}

	// "Show me transaction stats for the last 30 days"
	from, to := today.AddDate(0, 0, -30).Format(time.DateOnly), today.Format(time.DateOnly)
	a = ok(t, cs, "get_transaction_stats", map[string]any{"fromDate": from, "toDate": to})
	if a.structured["total"] != float64(2) || a.structured["successful"] != float64(2) || a.structured["revenue"] != float64(9800) {
		t.Fatalf("stats: %v", a.structured)
	}
	mustContain(t, "stats", a.text, "from "+from+" to "+to, "| Total transactions | 2 |", "| Successful | 2 |", "| Total revenue | $98.00 |")
	if old := ok(t, cs, "get_transaction_stats", map[string]any{"fromDate": "2020-01-01", "toDate": "2020-01-31"}); old.structured["total"] != float64(0) {
		t.Fatalf("stats of a range without payments: %v", old.structured)
	}

	// "How much revenue has the support-bot product generated?"
	a = ok(t, cs, "get_product_balance", map[string]any{"productRef": product})
	mustContain(t, "balance", a.text, "The support-bot product has generated $98.00 in revenue.")
	if b := ok(t, cs, "get_product_balance", map[string]any{"productReference": product}); b.structured["revenue"] != float64(9800) {
		t.Fatalf("balance (productReference): %v", b.structured)
	}

	// "What purchases does customer cus_… have?"
	a = ok(t, cs, "get_purchases_by_customer", map[string]any{"customerRef": jane})
	janePurchase, err := w.st.GetPurchase(w.ctx, w.merchant, purchase[jane])
	if err != nil {
		t.Fatal(err)
	}
	periodEnd := janePurchase.CurrentPeriodEnd.UTC().Format(time.DateOnly)
	mustContain(t, "purchases of jane", a.text, "Jane Smith has 1 active purchase:", "Plan: Pro ($49/month)", "Status: Active",
		"Started: "+janePurchase.StartedAt.UTC().Format(time.DateOnly), "Next billing: "+periodEnd, purchase[jane])

	// "Cancel that renewal — the customer requested a downgrade" (seed 001 says purchaseId)
	a = ok(t, cs, "cancel_renewal", map[string]any{"purchaseId": purchase[jane], "reason": "Customer requested downgrade"})
	mustContain(t, "cancel_renewal", a.text, "The renewal has been cancelled. Jane Smith will retain access until the end of the current billing period ("+periodEnd+").")
	if p := ok(t, cs, "get_purchase", map[string]any{"purchaseRef": purchase[jane]}); p.str("displayStatus") != "pending_cancellation" {
		t.Fatalf("after cancel: %v", p.structured)
	}
	a = ok(t, cs, "reactivate_renewal", map[string]any{"purchaseRef": purchase[jane]})
	mustContain(t, "reactivate_renewal", a.text, "The renewal has been reactivated. Jane Smith's purchase will renew on "+periodEnd+".")
	ok(t, cs, "cancel_renewal", map[string]any{"purchaseRef": purchase[jane], "reason": "Customer requested downgrade"})

	// "Generate a checkout link for customer cus_… to purchase the Pro plan"
	a = ok(t, cs, "create_checkout_session", map[string]any{"customerRef": bob, "productRef": product, "planRef": plan})
	url := a.str("url")
	if !strings.HasPrefix(url, w.hs.URL+"/checkout/cs_") {
		t.Fatalf("checkout url %q is not on this server", url)
	}
	mustContain(t, "checkout", a.text, "Here's the checkout URL for Bob:", url, "Send this link to the customer")
	if status := w.get(url); status != http.StatusOK {
		t.Fatalf("GET %s: %d", url, status)
	}

	// "Refund $25 from transaction txn_… — the customer was double-charged"
	payment := w.payment(purchase[jane])
	a = ok(t, cs, "create_refund", map[string]any{"sourceTransactionId": payment, "amount": 2500, "reason": "Double charge"})
	refund := a.str("reference")
	if !strings.HasPrefix(refund, "txn_") || refund == payment || a.structured["amount"] != float64(2500) {
		t.Fatalf("refund %q of payment %s: %v", refund, payment, a.structured)
	}
	mustContain(t, "refund", a.text, fmt.Sprintf("A partial refund of $25.00 has been processed for transaction %s. The refund reference is %s.", payment, refund))
	if got := ok(t, cs, "get_transaction", map[string]any{"transactionRef": refund}); got.str("type") != "refund" || got.str("sourceTransactionRef") != payment {
		t.Fatalf("the refund transaction: %v", got.structured)
	}
	// "Show me Jane's invoices": the paid charge's invoice, credited by the refund's credit note
	a = ok(t, cs, "list_invoices", map[string]any{"purchaseId": purchase[jane]})
	invoices, _ := a.structured["data"].([]any)
	if len(invoices) != 1 {
		t.Fatalf("invoices of %s: %v", purchase[jane], a.structured)
	}
	inv := invoices[0].(map[string]any)
	mustContain(t, "list_invoices", a.text, inv["number"].(string), payment)
	a = ok(t, cs, "get_invoice", map[string]any{"invoiceRef": inv["reference"]})
	mustContain(t, "get_invoice", a.text, inv["number"].(string), "paid", "credited by "+strings.Replace(inv["number"].(string), "INV-", "INV-CN-", 1)+" (cn_", "Hosted page (PDF download): "+w.hs.URL+"/invoice/")
	// "Void that invoice": refused in words, the invoice is paid (a refund credits it)
	e := fails(t, cs, "void_invoice", map[string]any{"invoiceId": inv["reference"]}, "CONFLICT")
	mustContain(t, "void_invoice", e["message"].(string), "a paid invoice cannot be voided; refund the payment to issue a credit note")

	// "Record that customer cus_… made a successful API call to product prd_…" — 85 calls came
	// before, through REST; the seed's call is made in both spellings.
	w.rest(201, "POST", "/v1/usages", fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"actionType":"api_call","units":85}`, bob, product))
	a = ok(t, cs, "record_usage", map[string]any{"customerRef": bob, "productRef": product, "actionType": "api_call", "units": 1, "outcome": "success"})
	mustContain(t, "record_usage", a.text, "Usage event recorded successfully.")
	a = ok(t, cs, "record_usage", map[string]any{"customerId": bob, "productReference": product, "actionType": "api_call", "units": 1, "outcome": "success"})
	mustContain(t, "record_usage (seed 001)", a.text, "Usage event recorded successfully.")

	// "Check if that customer has hit their usage limits"
	a = ok(t, cs, "check_limits", map[string]any{"customerRef": bob, "productRef": product})
	if a.structured["withinLimits"] != true || a.structured["used"] != float64(87) || a.structured["remaining"] != float64(13) {
		t.Fatalf("check_limits: %v", a.structured)
	}
	mustContain(t, "check_limits", a.text, "The customer has used 87 of 100 free requests this period.", "13 requests remaining")

	// "Record 5 usage events in bulk for today's batch"
	var events []any
	for i := range 5 {
		ev := map[string]any{"customerRef": bob, "productRef": product, "actionType": "api_call", "units": 1, "outcome": "success"}
		if i%2 == 1 { // seed 001's spelling of the same payload
			ev = map[string]any{"customerId": bob, "productReference": product, "actionType": "api_call", "units": 1, "outcome": "success"}
		}
		events = append(events, ev)
	}
	a = ok(t, cs, "record_bulk_usage", map[string]any{"events": events})
	mustContain(t, "record_bulk_usage", a.text, "5 usage events recorded successfully.")
	if l := ok(t, cs, "check_limits", map[string]any{"customerId": bob, "productReference": product}); l.structured["used"] != float64(92) {
		t.Fatalf("after the bulk: %v", l.structured)
	}

	// "Generate a billing portal link for customer cus_…"
	a = ok(t, cs, "create_customer_session", map[string]any{"customerRef": jane})
	url = a.str("url")
	if !strings.HasPrefix(url, w.hs.URL+"/portal/ps_") {
		t.Fatalf("portal url %q is not on this server", url)
	}
	mustContain(t, "portal", a.text, "Here's the customer portal URL for Jane Smith:", url, "manage their payment methods")
	if status := w.get(url); status != http.StatusOK {
		t.Fatalf("GET %s: %d", url, status)
	}

	// activatePlan (seed 003) for a customer without a card: payment is required, with a link.
	carol := ok(t, cs, "create_customer", map[string]any{"email": "carol@example.com", "name": "Carol"}).str("reference")
	a = ok(t, cs, "activate_plan", map[string]any{"customerId": carol, "productReference": product, "planRef": plan})
	if a.str("status") != "payment_required" || !strings.Contains(a.text, "Payment is required") {
		t.Fatalf("activate_plan: %s %v", a.text, a.structured)
	}
}

// rest makes a REST call with merchant A's key and fails unless the status is want.
func (w *world) rest(want int, method, path, body string) map[string]any {
	w.t.Helper()
	return w.restAs(w.key, want, method, path, body)
}

// restAs is rest with another key.
func (w *world) restAs(key string, want int, method, path, body string) map[string]any {
	w.t.Helper()
	req, _ := http.NewRequestWithContext(w.ctx, method, w.hs.URL+path, bytes.NewBufferString(body))
	req.Header.Set("X-API-KEY", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		w.t.Fatalf("%s %s: %d %v (want %d)", method, path, res.StatusCode, out, want)
	}
	return out
}

// payment is the succeeded first payment of a purchase.
func (w *world) payment(purchaseRef string) string {
	w.t.Helper()
	out := w.rest(200, "GET", "/v1/transactions?type=payment&purchaseRef="+purchaseRef, "")
	data, _ := out["data"].([]any)
	if len(data) != 1 {
		w.t.Fatalf("payments of %s: %v", purchaseRef, out)
	}
	return data[0].(map[string]any)["reference"].(string)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
