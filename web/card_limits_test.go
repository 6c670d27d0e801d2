package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/web"
)

// declined is the sandbox's always-declined card (Stripe's test card of the same number).
const declined = "4000 0000 0000 0002"

// replicas builds the fixture with its pages served by two API replicas that share the database,
// the CSRF secret and a log; opts adjust both.
func replicas(t *testing.T, opts ...envOption) (*env, *httptest.Server, *testenv.LogBuffer) {
	logs := &testenv.LogBuffer{}
	var cfg web.Config
	all := append([]envOption{func(c *web.Config) {
		c.Secret = []byte("one secret for every replica")
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}}, opts...)
	all = append(all, func(c *web.Config) { cfg = *c })
	e := newEnv(t, nil, all...)
	second := httptest.NewServer(web.New(cfg))
	t.Cleanup(second.Close)
	return e, second, logs
}

// Card testing through checkout: Pay hammered with a declined card, concurrently on two
// replicas, reaches the processor five times; then the link is spent, on every replica, even
// for a good card, and each decline is in the log as one.
func TestCheckoutSpendsTheLinkAfterFiveDeclinedCards(t *testing.T) {
	e, second, logs := replicas(t)
	cs := e.checkout(0)
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	token := csrfOf(t, body)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := []string{e.srv.URL, second.URL}[i%2]
			resp, _ := post(t, c, srv+"/checkout/"+cs.Ref, card(declined, token))
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusPaymentRequired] != 5 || codes[http.StatusGone] != 7 {
		t.Fatalf("12 declined Pays answered %v, want 5 × 402 then 7 × 410", codes)
	}
	for _, srv := range []string{e.srv.URL, second.URL} {
		resp, body := get(t, c, srv+"/checkout/"+cs.Ref)
		if resp.StatusCode != http.StatusGone || !strings.Contains(body, "This checkout link can no longer be used") ||
			!strings.Contains(body, "Too many cards were declined") || !strings.Contains(body, "Nothing was charged.") {
			t.Errorf("spent link on %s: %d\n%s", srv, resp.StatusCode, body)
		}
		if resp, _ := post(t, c, srv+"/checkout/"+cs.Ref, card("4242 4242 4242 4242", token)); resp.StatusCode != http.StatusGone {
			t.Errorf("a good card on the spent link: %d", resp.StatusCode)
		}
	}
	if n := len(e.purchases()); n != 0 {
		t.Errorf("%d purchases", n)
	}
	if cus, _ := e.st.GetCustomer(context.Background(), e.merchant, e.customer.Ref); cus.Card != nil {
		t.Errorf("a card was saved on a spent link: %+v", cus.Card)
	}
	text := logs.String()
	if n := strings.Count(text, `msg="card declined"`); n != 5 || strings.Count(text, "code=card_declined") != 5 {
		t.Errorf("%d declines logged, want 5:\n%s", n, text)
	}
	if !strings.Contains(text, "by=session") || strings.Contains(text, "0000 0002") || strings.Contains(text, "0000000000000002") {
		t.Errorf("the log lacks the limit or carries the card number:\n%s", text)
	}
}

// A customer whose links had ten declined cards within the hour waits, whichever link they use
// next: 429 with Retry-After, nothing sent to the processor.
func TestCardAttemptsAreLimitedPerCustomer(t *testing.T) {
	e, _, logs := replicas(t, func(c *web.Config) { c.CardLimits.IPBurst = 100 })
	c := e.client()
	for range 2 {
		cs := e.checkout(0)
		_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
		for range 5 {
			if resp, _ := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card(declined, csrfOf(t, body))); resp.StatusCode != http.StatusPaymentRequired {
				t.Fatalf("declined card: %d", resp.StatusCode)
			}
		}
	}
	ps := e.portal(0)
	_, body := get(t, c, e.srv.URL+"/portal/"+ps.Ref+"/card")
	resp, body := post(t, c, e.srv.URL+"/portal/"+ps.Ref+"/card", card("4242 4242 4242 4242", csrfOf(t, body)))
	wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || wait < 3000 || wait > 3600 ||
		!strings.Contains(body, "Too many cards were declined for this account") || !strings.Contains(body, "Nothing was charged.") {
		t.Fatalf("11th card of the customer: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if cus, _ := e.st.GetCustomer(context.Background(), e.merchant, e.customer.Ref); cus.Card != nil {
		t.Errorf("the card was saved past the customer's limit: %+v", cus.Card)
	}
	if !strings.Contains(logs.String(), "by=customer") {
		t.Errorf("the customer limit is not logged:\n%s", logs.String())
	}
	// Another customer of the merchant is not affected.
	other, err := e.st.CreateCustomer(context.Background(), domain.Customer{MerchantRef: e.merchant, Email: "max@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	e.customer = other
	e.buy(c)
}

// One client address gets a token bucket of card attempts (burst 3 here); past it, 429 with
// Retry-After, while another address (passed by the operator's proxy) still pays. A saved card
// gives its token back.
func TestCardAttemptsAreLimitedPerClientAddress(t *testing.T) {
	e, _, _ := replicas(t, func(c *web.Config) {
		c.CardLimits = web.CardLimits{IPBurst: 3, IPEvery: time.Hour}
		c.ClientIPHeader = "X-Forwarded-For"
	})
	from := func(ip string) *http.Client {
		c := e.client()
		c.Transport = headerTransport{"X-Forwarded-For", "198.51.100.7, " + ip}
		return c
	}
	c := from("203.0.113.5")
	ps := e.portal(0)
	_, body := get(t, c, e.srv.URL+"/portal/"+ps.Ref+"/card")
	if resp, _ := post(t, c, e.srv.URL+"/portal/"+ps.Ref+"/card", card("4242 4242 4242 4242", csrfOf(t, body))); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good card: %d", resp.StatusCode) // accepted: its token is given back
	}
	cs := e.checkout(0)
	_, body = get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	token := csrfOf(t, body)
	for range 3 {
		if resp, _ := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card(declined, token)); resp.StatusCode != http.StatusPaymentRequired {
			t.Fatalf("declined card: %d", resp.StatusCode)
		}
	}
	resp, body := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card(declined, token))
	wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || wait < 3000 || !strings.Contains(body, "Too many card attempts from your network") {
		t.Fatalf("4th attempt from one address: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The same session from another address goes on (two of its five refusals are left).
	other := from("192.0.2.44")
	_, body = get(t, other, e.srv.URL+"/checkout/"+cs.Ref)
	if resp, _ := post(t, other, e.srv.URL+"/checkout/"+cs.Ref, card(declined, csrfOf(t, body))); resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}

// The portal's card update: five declined cards spend the link's card page (the rest of the
// portal stays), on GET and POST.
func TestPortalCardUpdateSpentAfterFiveDeclines(t *testing.T) {
	e, _, logs := replicas(t)
	c := e.client()
	ps := e.portal(0)
	page := e.srv.URL + "/portal/" + ps.Ref + "/card"
	_, body := get(t, c, page)
	token := csrfOf(t, body)
	for i := range 5 {
		if resp, body := post(t, c, page, card(declined, token)); resp.StatusCode != http.StatusPaymentRequired ||
			!strings.Contains(body, "Your card was declined.") {
			t.Fatalf("decline %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := post(t, c, page, card("4242 4242 4242 4242", token))
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "Card updates are closed on this link") {
		t.Fatalf("6th card: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, page); resp.StatusCode != http.StatusGone {
		t.Errorf("card page of a spent link: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, e.srv.URL+"/portal/"+ps.Ref); resp.StatusCode != http.StatusOK {
		t.Errorf("portal of a spent card page: %d", resp.StatusCode)
	}
	if n := strings.Count(logs.String(), `msg="card declined"`); n != 5 {
		t.Errorf("%d declines logged, want 5", n)
	}
}

// headerTransport adds one header to every request (a proxy's X-Forwarded-For).
type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}
