package mcp_test

import (
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
)

// The assistant previews a plan change, makes it with the preview's prorationDate and is charged
// exactly what the preview said; a downgrade is scheduled, shown on the purchase and cancelled.
func TestPlanChangeTools(t *testing.T) {
	w, tc := newWorldWithWorkflows(t)
	cs := w.overHTTP(w.key)

	jane := ok(t, cs, "create_customer", map[string]any{"email": "jane@acme.com", "name": "Jane Smith"}).str("reference")
	product := ok(t, cs, "create_product", map[string]any{"name": "support-bot"}).str("reference")
	basic := ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Basic", "type": "recurring", "price": 1000,
		"currency": "USD", "billingCycle": "monthly", "isDefault": true}).str("reference")
	pro := ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Pro", "type": "recurring", "price": 4900,
		"currency": "USD", "billingCycle": "monthly"}).str("reference")
	w.rest(200, "POST", "/v1/customers/"+jane+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	st, err := starter.New(tc, w.st).Start(w.ctx, starter.StartInput{MerchantRef: w.merchant, CustomerRef: jane, PlanRef: basic})
	if err != nil || st.Status != domain.PurchaseActive {
		t.Fatalf("start: %+v %v", st, err)
	}
	ref := st.PurchaseRef

	// Preview the upgrade: lines, a total to charge now, and the prorationDate to pass on.
	pv := ok(t, cs, "preview_plan_change", map[string]any{"purchaseId": ref, "planRef": pro})
	total, _ := pv.structured["total"].(float64)
	date := pv.str("prorationDate")
	if pv.str("direction") != "upgrade" || pv.str("effective") != "now" || total <= 0 || date == "" {
		t.Fatalf("preview: %v", pv.structured)
	}
	mustContain(t, "preview", pv.text, "Changing from "+basic+" to "+pro+" (upgrade) would take effect now and charge $",
		"prorationDate "+date)
	if p := ok(t, cs, "get_purchase", map[string]any{"purchaseRef": ref}); p.str("planRef") != basic {
		t.Fatalf("the preview changed the purchase: %v", p.structured)
	}

	// The change charges exactly the preview's total, on the same purchase.
	ch := ok(t, cs, "change_plan", map[string]any{"purchaseRef": ref, "planRef": pro, "prorationDate": date})
	change, _ := ch.structured["change"].(map[string]any)
	if change["total"] != total || change["toPlanRef"] != pro {
		t.Fatalf("change %v, preview total %v", ch.structured, total)
	}
	mustContain(t, "change_plan", ch.text, "The plan has been changed from "+basic+" to "+pro, "was charged.", "Plan: Pro", ref)
	var charged int64
	for _, tx := range w.rest(200, "GET", "/v1/transactions?type=payment&purchaseRef="+ref, "")["data"].([]any) {
		charged += int64(tx.(map[string]any)["amount"].(float64))
	}
	if charged != 1000+int64(total) {
		t.Fatalf("payments of %s: %d, want the first period 1000 and the change %v", ref, charged, total)
	}

	// A downgrade waits for the period end, is shown on the purchase and can be cancelled.
	pv = ok(t, cs, "preview_plan_change", map[string]any{"purchaseRef": ref, "planRef": basic})
	mustContain(t, "downgrade preview", pv.text, "(downgrade) would take effect at the period end", "nothing is charged now")
	ch = ok(t, cs, "change_plan", map[string]any{"purchaseRef": ref, "planRef": basic})
	mustContain(t, "downgrade", ch.text, "is scheduled for the period end", "cancel_scheduled_change")
	got := ok(t, cs, "get_purchase", map[string]any{"purchaseRef": ref})
	mustContain(t, "scheduled on the purchase", got.text, "Scheduled change: to Basic on ")
	a := ok(t, cs, "cancel_scheduled_change", map[string]any{"purchaseId": ref})
	mustContain(t, "cancel_scheduled_change", a.text, "The scheduled plan change has been cancelled")
	if strings.Contains(a.text, "Scheduled change") {
		t.Fatalf("still scheduled: %s", a.text)
	}
	fails(t, cs, "cancel_scheduled_change", map[string]any{"purchaseRef": ref}, "CONFLICT")
	fails(t, cs, "change_plan", map[string]any{"purchaseRef": ref, "planRef": "pln_nope"}, "RESOURCE_NOT_FOUND")
}
