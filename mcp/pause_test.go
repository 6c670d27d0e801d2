package mcp_test

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
)

// The assistant pauses a purchase (no access), sees it paused, and resumes it with a new period
// charged now; a bad behaviour is refused naming the field.
func TestPauseTools(t *testing.T) {
	w, tc := newWorldWithWorkflows(t)
	cs := w.overHTTP(w.key)
	jane := ok(t, cs, "create_customer", map[string]any{"email": "jane@acme.com", "name": "Jane Smith"}).str("reference")
	product := ok(t, cs, "create_product", map[string]any{"name": "support-bot"}).str("reference")
	basic := ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Basic", "type": "recurring", "price": 1000,
		"currency": "USD", "billingCycle": "monthly", "isDefault": true}).str("reference")
	w.rest(200, "POST", "/v1/customers/"+jane+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	st, err := starter.New(tc, w.st).Start(w.ctx, starter.StartInput{MerchantRef: w.merchant, CustomerRef: jane, PlanRef: basic})
	if err != nil || st.Status != domain.PurchaseActive {
		t.Fatalf("start: %+v %v", st, err)
	}
	ref := st.PurchaseRef

	fails(t, cs, "pause_purchase", map[string]any{"purchaseRef": ref, "behavior": "keep_as_draft"}, "INVALID_FIELD")
	resumesAt := time.Now().AddDate(0, 2, 0).UTC().Truncate(time.Second)
	p := ok(t, cs, "pause_purchase", map[string]any{"purchaseRef": ref, "behavior": "void", "resumesAt": resumesAt.Format(time.RFC3339)})
	mustContain(t, "pause_purchase", p.text, "Jane Smith's purchase is paused: no access, nothing charged; resumes on "+resumesAt.Format("2006-01-02"))
	if p.str("status") != "paused" {
		t.Fatalf("pause: %v", p.structured)
	}
	g := ok(t, cs, "get_purchase", map[string]any{"purchaseRef": ref})
	mustContain(t, "get_purchase", g.text, "- Status: Paused", "- Paused since ")
	l := ok(t, cs, "list_purchases", map[string]any{"status": "paused"})
	mustContain(t, "list_purchases", l.text, ref)

	r := ok(t, cs, "resume_purchase", map[string]any{"purchaseRef": ref, "anchor": "now"})
	mustContain(t, "resume_purchase", r.text, "Jane Smith's purchase is resumed (active); next billing on ")
	if r.str("status") != "active" || r.structured["paidTotal"] != float64(2000) {
		t.Fatalf("resume: %v", r.structured)
	}
}
