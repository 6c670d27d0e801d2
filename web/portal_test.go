package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// pay completes a checkout with the 4242 card and returns the purchase reference.
func (e *env) buy(c *http.Client) string {
	e.t.Helper()
	cs := e.checkout(0)
	_, body := get(e.t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, body := post(e.t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", csrfOf(e.t, body)))
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("pay: %d\n%s", resp.StatusCode, body)
	}
	got, _ := e.st.GetCheckoutSession(context.Background(), cs.Ref)
	return got.PurchaseRef
}

func TestPortalCancelConfirmAndReactivate(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	ref := e.buy(c)
	ps := e.portal(0)
	base := e.srv.URL + "/portal/" + ps.Ref
	resp, body := get(t, c, base)
	if resp.StatusCode != 200 {
		t.Fatalf("portal: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Support Bot", "Pro", "$49.00 per month", "Active", "Renews on", "Visa •••• 4242",
		"Payment history", "Paid", "Cancel renewal"} {
		if !strings.Contains(body, want) {
			t.Errorf("portal lacks %q", want)
		}
	}
	// The confirmation step changes nothing by itself.
	resp, body = get(t, c, base+"/cancel?purchase="+ref)
	if resp.StatusCode != 200 || !strings.Contains(body, "Cancel your Pro renewal?") || !strings.Contains(body, "Keep my plan") {
		t.Fatalf("confirm page: %d\n%s", resp.StatusCode, body)
	}
	if p, _ := e.st.GetPurchase(context.Background(), e.merchant, ref); p.CancelledAt != nil {
		t.Fatal("the confirmation page cancelled already")
	}
	resp, _ = post(t, c, base+"/cancel", url.Values{"csrf_token": {csrfOf(t, body)}, "purchase": {ref}, "reason": {"Too expensive"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	_, body = get(t, c, e.srv.URL+resp.Header.Get("Location"))
	for _, want := range []string{"Pending cancellation", "Your renewal is cancelled. You keep access to Pro until", "Reactivate renewal"} {
		if !strings.Contains(body, want) {
			t.Errorf("after cancel the portal lacks %q", want)
		}
	}
	if p, _ := e.st.GetPurchase(context.Background(), e.merchant, ref); p.DisplayStatus() != domain.PurchasePendingCancellation {
		t.Errorf("purchase after cancel: %s", p.DisplayStatus())
	}
	// A second cancel is refused by the workflow, in words.
	resp, body2 := post(t, c, base+"/cancel", url.Values{"csrf_token": {csrfOf(t, body)}, "purchase": {ref}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body2, "already cancelled") {
		t.Errorf("second cancel: %d", resp.StatusCode)
	}
	resp, _ = post(t, c, base+"/reactivate", url.Values{"csrf_token": {csrfOf(t, body)}, "purchase": {ref}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", resp.StatusCode)
	}
	_, body = get(t, c, e.srv.URL+resp.Header.Get("Location"))
	if !strings.Contains(body, "Welcome back! Your Pro plan will renew on") || !strings.Contains(body, `data-status>Active<`) {
		t.Errorf("after reactivate:\n%s", body)
	}
}

func TestPortalGuardsSessionsAndPurchases(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	ref := e.buy(c)
	// Another customer of the same merchant cannot act on this purchase.
	other, err := e.st.CreateCustomer(context.Background(), domain.Customer{MerchantRef: e.merchant, Email: "bob@startup.io"})
	if err != nil {
		t.Fatal(err)
	}
	e.customer = other
	ps := e.portal(0)
	resp, body := get(t, c, e.srv.URL+"/portal/"+ps.Ref)
	if resp.StatusCode != 200 {
		t.Fatalf("the other customer's portal: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, ref) {
		t.Error("another customer's portal lists the purchase")
	}
	_, cardPage := get(t, c, e.srv.URL+"/portal/"+ps.Ref+"/card")
	resp, _ = post(t, c, e.srv.URL+"/portal/"+ps.Ref+"/cancel", url.Values{"csrf_token": {csrfOf(t, cardPage)}, "purchase": {ref}})
	if resp.StatusCode != 404 {
		t.Errorf("cancel of another customer's purchase: %d", resp.StatusCode)
	}
	resp, _ = post(t, c, e.srv.URL+"/portal/"+ps.Ref+"/cancel", url.Values{"purchase": {ref}})
	if resp.StatusCode != 403 {
		t.Errorf("POST without CSRF token: %d", resp.StatusCode)
	}
	expired := e.portal(time.Second)
	time.Sleep(1100 * time.Millisecond)
	resp, body = get(t, c, e.srv.URL+"/portal/"+expired.Ref)
	if resp.StatusCode != 410 || !strings.Contains(body, "This billing link has expired") {
		t.Errorf("expired portal: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = get(t, c, e.srv.URL+"/portal/ps_unknown")
	if resp.StatusCode != 404 {
		t.Errorf("unknown portal: %d", resp.StatusCode)
	}
}
