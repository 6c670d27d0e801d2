package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/web"
)

// A live checkout of a merchant with its own Stripe account shows that account's publishable
// key, and the card posted on it is attached at Stripe with that merchant's secret key — not the
// deployment's.
func TestOwnStripeCheckoutPage(t *testing.T) {
	backend, requests := testenv.StripeProxy(t)
	keys := testenv.Keyring(t)
	var accounts *processors.Accounts
	e := newEnv(t, nil, func(c *web.Config) {
		c.Payments = stripe.New(stripe.Config{SecretKey: "sk_test_deploymentdefault", BackendURL: backend})
		c.StripePublishableKey = "pk_test_deploymentdefault"
		accounts = &processors.Accounts{Store: c.Store, Keys: keys, BackendURL: backend}
		c.Accounts = accounts
	})
	if _, err := accounts.Set(context.Background(), e.merchant, processors.StripeSettings{SecretKey: "sk_test_Acme0000own",
		PublishableKey: "pk_test_Acme0000pub"}); err != nil {
		t.Fatal(err)
	}
	e.mode = domain.ModeLive
	page := e.srv.URL + "/checkout/" + e.checkout(time.Hour).Ref
	c := e.client()
	_, body := get(t, c, page)
	if !strings.Contains(body, `data-stripe-key="pk_test_Acme0000pub"`) || strings.Contains(body, "pk_test_deploymentdefault") {
		t.Fatalf("the merchant's live checkout does not take cards with its own publishable key:\n%s", body)
	}
	post(t, c, page, url.Values{"csrf_token": {csrfOf(t, body)}, "payment_method": {"pm_card_visa"}})
	attached := 0
	for _, r := range requests.List() {
		if r.Key != "sk_test_Acme0000own" {
			t.Errorf("%s carried %q, not the merchant's key", r.Call, r.Key)
		}
		if strings.HasSuffix(r.Call, "/attach") {
			attached++
		}
	}
	if attached != 1 {
		t.Errorf("the card was attached %d times: %v", attached, requests.List())
	}
}
