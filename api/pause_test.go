//go:build !fuzzonly

package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/tollgate-billing/tollgate/workflows"
)

// Pause and resume through the API with the test clock: a paused purchase is charged nothing
// at two boundaries and shows as paused everywhere; resume with anchor now charges exactly one
// new period at once; resume with anchor keep charges next at the anchor it had; a resumesAt
// resumes on its own; bad input is a 400 naming the field and changes nothing.
func TestPauseAndResumeThroughTheAPI(t *testing.T) {
	w := newLifecycleWorld(t)
	cus := w.must(201, "POST", "/v1/sdk/customers", `{"email":"pause@acme.com"}`)["reference"].(string)
	prd := w.must(201, "POST", "/v1/products", `{"name":"pausable"}`)["reference"].(string)
	plan := w.must(201, "POST", "/v1/products/"+prd+"/plans", `{"name":"Monthly","type":"recurring","price":1000,"currency":"USD"}`)["reference"].(string)
	w.must(200, "POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	res := w.must(200, "POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+plan+`"}`)
	ref := res["purchase"].(map[string]any)["reference"].(string)
	P := "/v1/purchases/" + ref
	payments := func() int {
		l := w.must(200, "GET", "/v1/transactions?purchaseRef="+ref+"&type=payment&status=succeeded", "")
		return int(l["total"].(float64))
	}
	access := func() bool {
		l := w.must(200, "POST", "/v1/limits", fmt.Sprintf(`{"customerRef":%q,"productRef":%q}`, cus, prd))
		return l["withinLimits"] == true
	}
	searchStatus := func() string {
		d, err := w.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(ref), "")
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["PurchaseStatus"]; p != nil {
			_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
		}
		return s
	}
	anchor := w.must(200, "GET", P, "")["currentPeriodEnd"].(string)

	// bad input: 400 naming the field, nothing changes
	before := w.must(200, "GET", P, "")
	for _, c := range []struct{ path, body, field string }{
		{P + "/pause", `{"behavior":"keep_as_draft"}`, "behavior"},
		{P + "/pause", `{}`, "behavior"},
		{P + "/pause", `{"behavior":"void","resumesAt":"2020-01-01T00:00:00Z"}`, "resumesAt"},
		{P + "/resume", `{"anchor":"later"}`, "anchor"},
	} {
		if status, body := w.do("POST", c.path, c.body); status != 400 || errField(body) != c.field {
			t.Fatalf("POST %s %s: %d %v", c.path, c.body, status, body)
		}
	}
	if status, body := w.do("POST", P+"/resume", `{}`); status != 409 || !strings.Contains(errMessage(body), "not paused") {
		t.Fatalf("resume an active purchase: %d %v", status, body)
	}
	if after := w.must(200, "GET", P, ""); after["updatedAt"] != before["updatedAt"] || after["status"] != "active" {
		t.Fatalf("bad input changed the purchase: %v", after)
	}

	// pause, keeping access: two boundaries pass without a charge
	p := w.must(200, "POST", P+"/pause", `{"behavior":"keep_access"}`)
	pause, _ := p["pause"].(map[string]any)
	if p["status"] != "paused" || p["displayStatus"] != "paused" || p["hasAccess"] != true || pause["behavior"] != "keep_access" {
		t.Fatalf("pause: %v", p)
	}
	if status, body := w.do("POST", P+"/pause", `{"behavior":"void"}`); status != 409 || !strings.Contains(errMessage(body), "already paused") {
		t.Fatalf("pause twice: %d %v", status, body)
	}
	if l := w.must(200, "GET", "/v1/purchases?status=paused&customerRef="+cus, ""); l["total"].(float64) != 1 {
		t.Fatalf("status filter: %v", l)
	}
	w.eventTypes(ref, "purchase.paused")
	if !access() || searchStatus() != "paused" {
		t.Fatalf("keep_access: access %v, search attribute %q", access(), searchStatus())
	}
	adv := w.must(200, "POST", P+"/advance-clock", `{"days":65}`)
	if adv["status"] != "paused" || adv["period"].(float64) != 3 || adv["paidTotal"].(float64) != 1000 || payments() != 1 {
		t.Fatalf("two boundaries while paused: %v (%d payments)", adv, payments())
	}

	// resume now: exactly one charge, a new period from now
	r := w.must(200, "POST", P+"/resume", `{"anchor":"now"}`)
	if r["status"] != "active" || r["pause"] != nil || r["paidTotal"].(float64) != 2000 || payments() != 2 || searchStatus() != "active" {
		t.Fatalf("resume now: %v (%d payments)", r, payments())
	}
	w.eventTypes(ref, "purchase.resumed", "purchase.renewed")
	if r["currentPeriodEnd"] == anchor {
		t.Fatalf("resume now kept the anchor: %v", r)
	}
	anchor = r["currentPeriodEnd"].(string)
	end, _ := time.Parse(time.RFC3339, anchor)

	// pause without access, resume keeping the anchor: the next charge is at that anchor
	p = w.must(200, "POST", P+"/pause", `{"behavior":"void"}`)
	if p["hasAccess"] != false || access() {
		t.Fatalf("a void pause grants no access: %v", p)
	}
	w.must(200, "POST", P+"/advance-clock", `{"days":10}`)
	if r = w.must(200, "POST", P+"/resume", `{"anchor":"keep"}`); r["status"] != "active" || payments() != 2 || r["currentPeriodEnd"] != anchor {
		t.Fatalf("resume keep: %v (%d payments)", r, payments())
	}
	w.must(200, "POST", P+"/advance-clock", `{"to":"`+end.Add(-time.Hour).Format(time.RFC3339)+`"}`)
	if payments() != 2 {
		t.Fatalf("charged before the anchor: %d payments", payments())
	}
	w.must(200, "POST", P+"/advance-clock", `{"to":"`+end.Add(time.Hour).Format(time.RFC3339)+`"}`)
	if payments() != 3 {
		t.Fatalf("at the kept anchor: %d payments, want 3", payments())
	}

	// resumesAt: the purchase resumes on its own when the test clock passes it
	now := end.Add(time.Hour)
	at := now.Add(5 * 24 * time.Hour).Format(time.RFC3339)
	if p = w.must(200, "POST", P+"/pause", `{"behavior":"void","resumesAt":"`+at+`"}`); p["pause"].(map[string]any)["resumesAt"] != at {
		t.Fatalf("pause until: %v", p)
	}
	if a := w.must(200, "POST", P+"/advance-clock", `{"days":6}`); a["status"] != "active" || a["pause"] != nil || payments() != 3 {
		t.Fatalf("automatic resume: %v (%d payments)", a, payments())
	}

	// while paused, a refund and a cancellation still work; a cancelled purchase cannot pause
	w.must(200, "POST", P+"/pause", `{"behavior":"keep_access"}`)
	l := w.must(200, "GET", "/v1/transactions?purchaseRef="+ref+"&type=payment", "")
	pay := l["data"].([]any)[0].(map[string]any)["reference"].(string)
	w.must(201, "POST", "/v1/refunds", `{"sourceTransactionRef":"`+pay+`","amount":100,"reason":"goodwill"}`)
	if c := w.must(200, "POST", P+"/cancel-renewal", `{"reason":"leaving"}`); c["status"] != "paused" || c["cancelledAt"] == nil {
		t.Fatalf("cancel while paused: %v", c)
	}
	w.must(200, "POST", P+"/advance-clock", `{"days":40}`)
	if status, body := w.do("POST", P+"/pause", `{"behavior":"void"}`); status != 409 || !strings.Contains(errMessage(body), "ended") {
		t.Fatalf("pause a cancelled purchase: %d %v", status, body)
	}
	if g := w.must(200, "GET", P, ""); g["status"] != "cancelled" || payments() != 3 {
		t.Fatalf("after the cancellation: %v", g)
	}
}
