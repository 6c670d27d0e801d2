package mcp_test

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tollgate-billing/tollgate/workflows"
)

// create_refund works for the life of a payment: it refunds a payment of a purchase whose
// workflow has closed, once however often the assistant asks the same, and tells a payment past
// the processor's refund window by its code.
func TestRefundToolForTheLifeOfThePayment(t *testing.T) {
	w, tc := newWorldWithWorkflows(t)
	cs := w.overHTTP(w.key)
	product := ok(t, cs, "create_product", map[string]any{"name": "weather-api"}).str("reference")
	plan := ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Pro", "type": "recurring", "price": 1000,
		"currency": "USD", "billingCycle": "monthly"}).str("reference")
	buy := func(email string) string {
		cus := ok(t, cs, "create_customer", map[string]any{"email": email}).str("reference")
		w.rest(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
		a := ok(t, cs, "activate_plan", map[string]any{"customerRef": cus, "productRef": product, "planRef": plan})
		return a.structured["purchase"].(map[string]any)["reference"].(string)
	}

	// ended, and 30 days later its workflow closed
	ended := buy("a@acme.com")
	pay := w.payment(ended)
	ok(t, cs, "cancel_renewal", map[string]any{"purchaseRef": ended})
	w.rest(200, "POST", "/v1/purchases/"+ended+"/advance-clock", `{"days":32}`)
	w.rest(200, "POST", "/v1/purchases/"+ended+"/advance-clock", `{"days":31}`)
	waitFor(t, "the purchase's workflow to close", func() bool {
		d, err := tc.DescribeWorkflowExecution(w.ctx, workflows.WorkflowID(ended), "")
		return err == nil && d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	args := map[string]any{"sourceTransactionRef": pay, "amount": 400, "reason": "Late goodwill"}
	a := ok(t, cs, "create_refund", args)
	refund := a.str("reference")
	mustContain(t, "create_refund", a.text, "A partial refund of $4.00 has been processed for transaction "+pay+". The refund reference is "+refund+".")
	if again := ok(t, cs, "create_refund", args); again.str("reference") != refund {
		t.Fatalf("the same refund asked again: %v then %v", a.structured, again.structured)
	}
	if p := w.rest(200, "GET", "/v1/transactions/"+pay, ""); p["refundedAmount"] != float64(400) {
		t.Fatalf("the payment: %v", p)
	}

	// 200 days on, the first payment no longer refunds
	old := buy("b@acme.com")
	pay = w.payment(old)
	w.rest(200, "POST", "/v1/purchases/"+old+"/advance-clock", `{"days":200}`)
	if e := fails(t, cs, "create_refund", map[string]any{"sourceTransactionRef": pay}, "REFUND_WINDOW_CLOSED"); e["field"] != "sourceTransactionRef" {
		t.Fatalf("refund of a payment 200 days old: %v", e)
	}
}
