package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/web"
)

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches path with c and returns the status and body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, html.UnescapeString(string(b))
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, html.UnescapeString(string(b))
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

func card(number, token string) url.Values {
	return url.Values{"number": {number}, "exp": {"12 / 34"}, "cvc": {"123"}, "name": {"Jane Smith"}, "csrf_token": {token}}
}

func TestCheckoutPageShowsThePlanSafely(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	resp, body := get(t, e.client(), e.srv.URL+"/checkout/"+cs.Ref)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Acme AI", "Support Bot", "Pro", "$49.00", "per month", "Monthly", "Pay $49.00",
		`<label for="number">Card number</label>`, `autocomplete="cc-number"`, "Priority support", "jane@acme.com",
		"https://acme.test/account", "Test mode"} {
		if !strings.Contains(body, want) {
			t.Errorf("checkout page lacks %q", want)
		}
	}
	if strings.Contains(body, e.apiKey) || strings.Contains(body, "sk_sandbox_") {
		t.Error("an API key reached the page")
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "js.stripe.com") {
		t.Error("sandbox page has inline or Stripe script")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self';", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "stripe") {
		t.Errorf("CSP allows Stripe without Stripe: %q", csp)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the session id could leak through the Referer header")
	}
}

func TestCheckoutTrialAndOneTimeWording(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	trial, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: "Team",
		Type: domain.PlanRecurring, Price: 129900, Currency: "EUR", BillingCycle: domain.CycleYearly, TrialDays: 14})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, e.client(), e.srv.URL+"/checkout/"+e.checkoutFor(trial, 0).Ref)
	for _, want := range []string{"€1,299.00", "per year", "Free for 14 days, then €1,299.00 per year", "Start free trial", "€0.00"} {
		if !strings.Contains(body, want) {
			t.Errorf("trial checkout lacks %q", want)
		}
	}
	once, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: "Lifetime",
		Type: domain.PlanOneTime, Price: 120000, Currency: "JPY"})
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, e.client(), e.srv.URL+"/checkout/"+e.checkoutFor(once, 0).Ref)
	for _, want := range []string{"¥120,000", "One-time", "Pay ¥120,000"} {
		if !strings.Contains(body, want) {
			t.Errorf("one-time checkout lacks %q", want)
		}
	}
}

func TestCheckoutUnknownAndExpiredSessions(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	resp, body := get(t, c, e.srv.URL+"/checkout/cs_doesnotexist0000000000000000000")
	if resp.StatusCode != 404 || !strings.Contains(body, "This link isn't valid") {
		t.Errorf("unknown session: %d\n%s", resp.StatusCode, body)
	}
	cs := e.checkout(time.Second)
	time.Sleep(1100 * time.Millisecond)
	resp, body = get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	if resp.StatusCode != 410 || !strings.Contains(body, "This checkout link has expired") || !strings.Contains(body, "Nothing was charged") {
		t.Errorf("expired session: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", "x"))
	if resp.StatusCode != 410 {
		t.Errorf("pay on an expired session: %d", resp.StatusCode)
	}
	if n := len(e.purchases()); n != 0 {
		t.Errorf("%d purchases after an expired checkout", n)
	}
}

func TestCheckoutRefusesAPostWithoutItsCSRFToken(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	token := csrfOf(t, body)
	// No cookie (another site's form): refused even with a token copied from the page.
	resp, body := post(t, &http.Client{}, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", token))
	if resp.StatusCode != 403 || !strings.Contains(body, "nothing was changed") {
		t.Errorf("cross-site POST: %d\n%s", resp.StatusCode, body)
	}
	// The right cookie but a token of another session.
	other := e.checkout(0)
	_, otherBody := get(t, c, e.srv.URL+"/checkout/"+other.Ref)
	resp, _ = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", csrfOf(t, otherBody)))
	if resp.StatusCode != 403 {
		t.Errorf("token of another session: %d", resp.StatusCode)
	}
	if n := len(e.purchases()); n != 0 {
		t.Errorf("%d purchases after refused POSTs", n)
	}
}

func TestCheckoutValidatesTheCardInWords(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	form := card("4242 4242 4242 4241", csrfOf(t, body))
	form.Set("exp", "01 / 20")
	form.Set("cvc", "1")
	resp, body := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, form)
	if resp.StatusCode != 422 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"Your card number is incorrect.", "Your card has expired.", "Enter the 3 or 4 digit security code.", `aria-invalid="true"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "4242 4242 4242 4241") {
		t.Error("the card number was echoed back into the page")
	}
}

func TestCheckoutDeclinedCardLeavesNoPurchase(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, body := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4000 0000 0000 0002", csrfOf(t, body)))
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, "Your card was declined.") || !strings.Contains(body, "Try again") {
		t.Fatalf("declined card: %d\n%s", resp.StatusCode, body)
	}
	_, body = get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, body = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4000 0000 0000 9995", csrfOf(t, body)))
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, "insufficient funds") {
		t.Fatalf("insufficient funds: %d\n%s", resp.StatusCode, body)
	}
	if n := len(e.purchases()); n != 0 {
		t.Errorf("%d purchases after declines", n)
	}
	// Then a good card works on the same session.
	resp, _ = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242 4242 4242 4242", csrfOf(t, body)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good card after declines: %d", resp.StatusCode)
	}
}

func TestCheckoutFirstChargeFailureAllowsAnotherCard(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	// …0341 attaches, then its charge fails inside the purchase: the purchase ends, unpaid.
	resp, body := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4000 0000 0000 0341", csrfOf(t, body)))
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, "Your card was declined.") {
		t.Fatalf("failing charge: %d\n%s", resp.StatusCode, body)
	}
	for _, p := range e.purchases() {
		if p.Status.HasAccess() {
			t.Errorf("purchase %s has access after a failed first payment: %s", p.Ref, p.Status)
		}
	}
	resp, _ = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242 4242 4242 4242", csrfOf(t, body)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second card: %d", resp.StatusCode)
	}
	got, _ := e.st.GetCheckoutSession(context.Background(), cs.Ref)
	p, err := e.st.GetPurchase(context.Background(), e.merchant, got.PurchaseRef)
	if err != nil || p.Status != domain.PurchaseActive {
		t.Fatalf("purchase after the second card: %+v %v", p, err)
	}
}

// Pay clicked twice (two POSTs racing) and the page reloaded: one purchase, one workflow.
func TestCheckoutPaysOnceWhenDoubleClicked(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	token := csrfOf(t, body)
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", token))
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for _, code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("a click answered %d, want a redirect to the success page", code)
		}
	}
	got, err := e.st.GetCheckoutSession(context.Background(), cs.Ref)
	if err != nil || got.Status != "complete" || got.PurchaseRef == "" {
		t.Fatalf("session after pay: %+v %v", got, err)
	}
	if n := e.fake.startCount(got.PurchaseRef); n != 1 {
		t.Errorf("%d workflows started for %s", n, got.PurchaseRef)
	}
	if ps := e.purchases(); len(ps) != 1 || ps[0].Status != domain.PurchaseActive {
		t.Errorf("purchases: %+v", ps)
	}
	// Reloads: the checkout page and a re-sent POST both land on the success page.
	resp, _ := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/checkout/"+cs.Ref+"/success" {
		t.Errorf("reload: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", token))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("re-sent POST: %d", resp.StatusCode)
	}
	resp, body = get(t, c, e.srv.URL+"/checkout/"+cs.Ref+"/success")
	for _, want := range []string{"Payment successful", "$49.00", "Visa •••• 4242", got.PurchaseRef, "Return to Acme AI", "Next payment"} {
		if !strings.Contains(body, want) {
			t.Errorf("success page lacks %q", want)
		}
	}
	if len(e.purchases()) != 1 {
		t.Error("a reload started another purchase")
	}
}

// The receipt lives as long as its checkout session: once the link has expired it says the
// purchase went through and shows nothing of it (a link left in a browser history or on a shared
// screen must not keep showing the customer's email, card and purchase).
func TestCheckoutSuccessExpiresWithTheSession(t *testing.T) {
	var later atomic.Int64 // how far the pages' clock runs ahead of the wall clock
	e := newEnv(t, nil, func(c *web.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	})
	cs := e.checkout(time.Hour)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	if resp, _ := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", csrfOf(t, body))); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	got, err := e.st.GetCheckoutSession(context.Background(), cs.Ref)
	if err != nil || got.PurchaseRef == "" {
		t.Fatalf("session after pay: %+v %v", got, err)
	}
	details := []string{"$49.00", "Visa •••• 4242", "jane@acme.com", got.PurchaseRef}
	resp, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref+"/success")
	for _, want := range details {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("success page inside the session's life: %d, lacks %q", resp.StatusCode, want)
		}
	}
	later.Store(int64(time.Hour + time.Minute))
	for _, path := range []string{"/success", ""} {
		resp, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref+path)
		if resp.StatusCode != http.StatusGone || !strings.Contains(body, "This page has expired") ||
			!strings.Contains(body, "Your purchase went through") {
			t.Errorf("/checkout/…%s after the session expired: %d\n%s", path, resp.StatusCode, body)
		}
		for _, secret := range details {
			if strings.Contains(body, secret) {
				t.Errorf("/checkout/…%s after the session expired still shows %q", path, secret)
			}
		}
	}
}
