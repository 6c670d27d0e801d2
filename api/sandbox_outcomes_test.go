//go:build !fuzzonly

package api_test

import (
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
)

// newSandboxHooksWorld is a lifecycle world whose sandbox sends its outcomes through the
// webhook handler, signed with the sandbox's secret.
func newSandboxHooksWorld(t *testing.T) *world {
	t.Helper()
	return newLifecycleWorld(t, func(c *api.Config) { c.SandboxWebhookSecret = "whsec_sb_test_outcomes" })
}

// sandboxPurchase buys plan for a new customer with card and answers the purchase and its
// first payment.
func (w *world) sandboxPurchase(email, card, product, plan string) (purchase, payment string) {
	w.t.Helper()
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"`+email+`"}`)["reference"].(string)
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"`+card+`"}`)
	res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+product+`","planRef":"`+plan+`"}`)
	p, _ := res["purchase"].(map[string]any)
	if purchase, _ = p["reference"].(string); purchase == "" {
		w.t.Fatalf("activate: %v", res)
	}
	return purchase, w.payment(purchase)
}

// TestSandboxProcessingPayments: a payment with the sandbox's processing card is not paid until
// it settles; the settle route sends payment_intent.succeeded (or .payment_failed) through the
// signed webhook path, and the purchase follows: paid, or — a first payment — expired.
func TestSandboxProcessingPayments(t *testing.T) {
	w := newSandboxHooksWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)

	ok, okPay := w.sandboxPurchase("ok@acme.com", "4000 0000 0000 7726", prd, pro)
	if p := w.must(200, "GET", "/v1/purchases/"+ok, ""); p["paymentProcessing"] != true || p["paidTotal"] != 0.0 {
		t.Fatalf("a processing first payment: %v", p)
	}
	if txn := w.must(200, "GET", "/v1/transactions/"+okPay, ""); txn["status"] != "pending" {
		t.Fatalf("processing payment: %v", txn)
	}
	out := w.must(200, "POST", "/v1/sandbox/transactions/"+okPay+"/settle", `{"outcome":"succeeded"}`)
	if out["event"] != "payment_intent.succeeded" {
		t.Fatalf("settle: %v", out)
	}
	eventually(t, "the payment settled", func() bool {
		p := w.must(200, "GET", "/v1/purchases/"+ok, "")
		return p["paymentProcessing"] == nil && p["status"] == "active" &&
			w.must(200, "GET", "/v1/transactions/"+okPay, "")["status"] == "succeeded"
	})
	// settled once: again the same way answers the same event; the other way is refused
	w.must(200, "POST", "/v1/sandbox/transactions/"+okPay+"/settle", `{"outcome":"succeeded"}`)
	w.must(409, "POST", "/v1/sandbox/transactions/"+okPay+"/settle", `{"outcome":"failed"}`)

	bad, badPay := w.sandboxPurchase("bad@acme.com", "4000000000007726", prd, pro)
	// a processing payment does not fail asking for authentication: refused, nothing settled
	if e := w.must(400, "POST", "/v1/sandbox/transactions/"+badPay+"/settle", `{"outcome":"failed","failureCode":"authentication_required"}`); e["error"].(map[string]any)["field"] != "failureCode" {
		t.Fatalf("authentication_required settlement: %v", e)
	}
	if txn := w.must(200, "GET", "/v1/transactions/"+badPay, ""); txn["status"] != "pending" {
		t.Fatalf("after a refused settlement: %v", txn)
	}
	w.must(200, "POST", "/v1/sandbox/transactions/"+badPay+"/settle", `{"outcome":"failed","failureCode":"insufficient_funds"}`)
	eventually(t, "the failed first payment ends the purchase", func() bool {
		return w.must(200, "GET", "/v1/purchases/"+bad, "")["status"] == "expired"
	})
	if txn := w.must(200, "GET", "/v1/transactions/"+badPay, ""); txn["status"] != "failed" || txn["failureCode"] != "insufficient_funds" {
		t.Fatalf("failed settlement: %v", txn)
	}
}

// TestSandboxDisputes: a dispute opened on the sandbox reaches the purchase through the signed
// webhook path and suspends it (the default policy); won, access returns; lost, the payment's
// loss is booked as a refund transaction.
func TestSandboxDisputes(t *testing.T) {
	w := newSandboxHooksWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	status := func(pur string) any { return w.must(200, "GET", "/v1/purchases/"+pur, "")["status"] }

	won, wonPay := w.sandboxPurchase("won@acme.com", "pm_card_visa", prd, pro)
	d := w.must(200, "POST", "/v1/sandbox/transactions/"+wonPay+"/dispute", "")
	if d["event"] != "charge.dispute.created" || d["dispute"].(map[string]any)["status"] != "needs_response" {
		t.Fatalf("open dispute: %v", d)
	}
	eventually(t, "the dispute suspends the purchase", func() bool { return status(won) == "suspended" })
	if p := w.must(200, "GET", "/v1/purchases/"+won, ""); p["disputed"] != true {
		t.Fatalf("disputed purchase: %v", p)
	}
	again := w.must(200, "POST", "/v1/sandbox/transactions/"+wonPay+"/dispute", "")
	if again["dispute"].(map[string]any)["id"] != d["dispute"].(map[string]any)["id"] {
		t.Fatalf("a payment has one dispute: %v then %v", d, again)
	}
	w.must(200, "POST", "/v1/sandbox/transactions/"+wonPay+"/dispute/close", `{"outcome":"won"}`)
	eventually(t, "the won dispute restores access", func() bool { return status(won) == "active" })
	w.must(409, "POST", "/v1/sandbox/transactions/"+wonPay+"/dispute/close", `{"outcome":"lost"}`)

	lost, lostPay := w.sandboxPurchase("lost@acme.com", "pm_card_visa", prd, pro)
	w.must(409, "POST", "/v1/sandbox/transactions/"+lostPay+"/dispute/close", `{"outcome":"lost"}`) // none open yet
	w.must(200, "POST", "/v1/sandbox/transactions/"+lostPay+"/dispute", `{}`)
	eventually(t, "the dispute suspends the purchase", func() bool { return status(lost) == "suspended" })
	w.must(200, "POST", "/v1/sandbox/transactions/"+lostPay+"/dispute/close", `{"outcome":"lost"}`)
	eventually(t, "the lost dispute is booked as a refund", func() bool {
		for _, x := range w.must(200, "GET", "/v1/transactions?purchaseRef="+lost, "")["data"].([]any) {
			if txn := x.(map[string]any); txn["type"] == "refund" && txn["amount"] == 4900.0 && txn["reason"] == "dispute_lost" {
				return true
			}
		}
		return false
	})
}

// TestSandboxDisputedCard: Stripe's test card 4000 0000 0000 0259 pays, and a dispute opens over
// the payment shortly after, by itself, through the signed webhook path: the purchase is
// suspended (the default policy) with its payment disputed; the dispute closed won through the
// sandbox route, it is active again.
func TestSandboxDisputedCard(t *testing.T) {
	w := newSandboxHooksWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)

	pur, pay := w.sandboxPurchase("fraud@acme.com", "4000 0000 0000 0259", prd, pro)
	if txn := w.must(200, "GET", "/v1/transactions/"+pay, ""); txn["status"] != "succeeded" {
		t.Fatalf("the disputed card's payment: %v", txn)
	}
	eventually(t, "the dispute opens by itself and suspends the purchase", func() bool {
		p := w.must(200, "GET", "/v1/purchases/"+pur, "")
		return p["status"] == "suspended" && p["disputed"] == true
	})
	w.must(200, "POST", "/v1/sandbox/transactions/"+pay+"/dispute/close", `{"outcome":"won"}`)
	eventually(t, "the won dispute restores access", func() bool {
		return w.must(200, "GET", "/v1/purchases/"+pur, "")["status"] == "active"
	})
}

// TestActivateFirstPaymentAuthentication: activating a plan with a card whose bank asks for
// every payment (3184) answers authentication_required with the page the customer confirms the
// first payment on; the purchase is pending, nothing paid, until they do.
func TestActivateFirstPaymentAuthentication(t *testing.T) {
	w := newSandboxHooksWorld(t)
	prd := w.must(201, "POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pro := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"sca@acme.com"}`)["reference"].(string)
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_authenticationRequired"}`)
	res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pro+`"}`)
	p, _ := res["purchase"].(map[string]any)
	if res["status"] != "authentication_required" || !strings.Contains(res["payUrl"].(string), "/pay/pay_") ||
		p == nil || p["status"] != "pending" || p["paidTotal"] != 0.0 {
		t.Fatalf("activate: %v", res)
	}
	again := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pro+`"}`)
	if again["status"] != "authentication_required" || again["payUrl"] != res["payUrl"] {
		t.Fatalf("activating again while the customer confirms: %v", again)
	}
}
