package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// The hosted invoice page opens with its token alone (no key, no session), shows the number,
// lines and total, and its download button answers the PDF; any other token is "not valid".
func TestHostedInvoicePage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	pur := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: e.merchant, CustomerRef: e.customer.Ref, ProductRef: e.product.Ref,
		PlanRef: e.plan.Ref, Status: domain.PurchaseActive, Currency: "USD", Seq: 1, Sandbox: true, Period: 1}
	if _, err := e.st.UpsertPurchase(ctx, pur); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.InsertTransaction(ctx, domain.Transaction{MerchantRef: e.merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: 4900, Currency: "USD", PurchaseRef: pur.Ref, CustomerRef: e.customer.Ref,
		Period: 1, Reason: "Pro — period 1", IdempotencyKey: pur.Ref + "/period-1/charge", Processor: "sandbox"}); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.st.ListInvoices(ctx, e.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox}, store.Page{Page: 1, Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatalf("invoices: %v %+v", err, list)
	}
	inv := list[0]
	status, page := getPage(t, e.srv.URL+"/invoice/"+inv.HostedToken)
	for _, want := range []string{inv.Number, "Pro — period 1", "$49.00", "Jane Smith", `href="/invoice/` + inv.HostedToken + `/pdf"`, "Download PDF"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Fatalf("the invoice page (%d) lacks %q:\n%s", status, want, page)
		}
	}
	res, err := http.Get(e.srv.URL + "/invoice/" + inv.HostedToken + "/pdf")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("the PDF download: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"/invoice/" + inv.Ref, "/invoice/" + inv.HostedToken[:39], "/invoice/x/pdf"} {
		if status, page := getPage(t, e.srv.URL+bad); status != 404 || strings.Contains(page, inv.Number) {
			t.Errorf("GET %s: %d", bad, status)
		}
	}
}

func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
