//go:build !fuzzonly

package api_test

import (
	"testing"
	"time"
)

func TestTransactionsListGetAndStats(t *testing.T) {
	w := newWorld(t)
	f := w.fixture(w.env, w.merchant, "jane@acme.com")
	today := time.Now().UTC().Format(time.DateOnly)
	l := w.must(200, "GET", "/v1/transactions?fromDate="+today+"&toDate="+today, "")
	if l["total"].(float64) != 3 {
		t.Fatalf("today's transactions: %v", l)
	}
	if l := w.must(200, "GET", "/v1/transactions?status=failed", ""); l["total"].(float64) != 1 {
		t.Fatalf("failed: %v", l)
	}
	if l := w.must(200, "GET", "/v1/transactions?type=refund&purchaseId="+f.purchase, ""); l["total"].(float64) != 1 {
		t.Fatalf("refunds of purchase: %v", l)
	}
	if l := w.must(200, "GET", "/v1/transactions?toDate=2020-01-01", ""); l["total"].(float64) != 0 {
		t.Fatalf("before any: %v", l)
	}
	tx := w.must(200, "GET", "/v1/transactions/"+f.payment, "")
	if tx["type"] != "payment" || tx["amount"].(float64) != 4900 || tx["refundedAmount"].(float64) != 2500 || tx["currency"] != "USD" {
		t.Fatalf("payment: %v", tx)
	}
	if r := w.must(200, "GET", "/v1/transactions/"+f.refund, ""); r["sourceTransactionRef"] != f.payment || r["reason"] != "Double charge" {
		t.Fatalf("refund: %v", r)
	}

	st := w.must(200, "GET", "/v1/transactions/stats?fromDate="+time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)+"&toDate="+today, "")
	for k, want := range map[string]float64{"total": 3, "successful": 1, "failed": 1, "refunded": 1, "revenue": 4900, "refundedAmount": 2500, "netRevenue": 2400} {
		if st[k].(float64) != want {
			t.Errorf("stats %s = %v, want %v (%v)", k, st[k], want, st)
		}
	}
	if st["currency"] != "USD" {
		t.Errorf("stats currency: %v", st)
	}
	if st := w.must(200, "GET", "/v1/transactions/stats?fromDate=2020-01-01&toDate=2020-01-31", ""); st["total"].(float64) != 0 || st["revenue"].(float64) != 0 {
		t.Fatalf("empty range: %v", st)
	}
	for _, q := range []string{"fromDate=2026-13-01", "toDate=yesterday", "fromDate=2026-02-11&toDate=2026-01-11"} {
		if status, body := w.do("GET", "/v1/transactions/stats?"+q, ""); status != 400 || errField(body) == nil {
			t.Errorf("%s: %d %v", q, status, body)
		}
	}
}

func TestPurchasesListAndGet(t *testing.T) {
	w := newWorld(t)
	f := w.fixture(w.env, w.merchant, "jane@acme.com")
	l := w.must(200, "GET", "/v1/purchases?customerRef="+f.customer, "")
	if l["total"].(float64) != 1 {
		t.Fatalf("by customer: %v", l)
	}
	p := l["data"].([]any)[0].(map[string]any)
	if p["reference"] != f.purchase || p["status"] != "active" || p["displayStatus"] != "active" || p["hasAccess"] != true || p["amount"].(float64) != 4900 {
		t.Fatalf("purchase: %v", p)
	}
	for q, want := range map[string]float64{"productReference=" + f.product: 1, "status=active": 1, "status=pending_cancellation": 0, "status=expired": 0} {
		if l := w.must(200, "GET", "/v1/purchases?"+q, ""); l["total"].(float64) != want {
			t.Errorf("%s: %v", q, l)
		}
	}
	if g := w.must(200, "GET", "/v1/purchases/"+f.purchase, ""); g["planRef"] != f.plan {
		t.Fatalf("get: %v", g)
	}
	if status, body := w.do("GET", "/v1/purchases?status=happy", ""); status != 400 || errField(body) != "status" {
		t.Fatalf("bad status: %d %v", status, body)
	}
	if status, body := w.do("GET", "/v1/purchases?customerRef=cus_nobody", ""); status != 404 || errField(body) != "customerRef" {
		t.Fatalf("unknown customer: %d %v", status, body)
	}
}
