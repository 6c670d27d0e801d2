package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/web"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one merchant with a customer, a product and a monthly plan, and the pages served on
// loopback.
type env struct {
	t        *testing.T
	st       *store.Store
	pay      payments.Processor
	life     web.Lifecycle
	fake     *fakeLifecycle // nil when the real workflows run
	srv      *httptest.Server
	merchant string
	apiKey   string
	mode     string // of the sessions the env opens: a sandbox key's unless set
	customer domain.Customer
	product  domain.Product
	plan     domain.Plan
}

type envOption func(*web.Config)

// logoSVG is a small data: URL logo, so pages show an image without any network.
const logoSVG = "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='8' fill='%230f766e'/><path d='M9 11h14M16 11v12' stroke='white' stroke-width='3.2' stroke-linecap='round'/></svg>"

// newEnv builds the fixture; life builds the lifecycle (nil: the fake).
func newEnv(t *testing.T, life func(e *env) web.Lifecycle, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: testenv.Postgres(t)}
	e.pay = sandbox.New(e.st.Pool)
	e.merchant, e.apiKey = testenv.Merchant(t, e.st, "Acme AI")
	if _, err := e.st.Pool.Exec(ctx, `UPDATE merchants SET logo_url = $2, support_contact = 'help@acme.test',
		terms_url = 'https://acme.test/terms', privacy_url = 'https://acme.test/privacy' WHERE id = $1`, e.merchant, logoSVG); err != nil {
		t.Fatal(err)
	}
	var err error
	e.customer, err = e.st.CreateCustomer(ctx, domain.Customer{MerchantRef: e.merchant, Email: "jane@acme.com", Name: "Jane Smith"})
	if err != nil {
		t.Fatal(err)
	}
	e.product, err = e.st.CreateProduct(ctx, domain.Product{MerchantRef: e.merchant, Name: "Support Bot",
		Description: "Customer support automation for your help desk."})
	if err != nil {
		t.Fatal(err)
	}
	e.plan, err = e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: "Pro",
		Type: domain.PlanRecurring, Price: 4900, Currency: "USD", BillingCycle: domain.CycleMonthly,
		Features: []string{"10,000 conversations a month", "Email and chat channels", "Priority support"}})
	if err != nil {
		t.Fatal(err)
	}
	if life == nil {
		e.fake = newFakeLifecycle(e.st, e.pay)
		e.life = e.fake
	} else {
		e.life = life(e)
	}
	cfg := web.Config{Store: e.st, Payments: e.pay, Lifecycle: e.life, ActivationWait: 15 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	e.srv = httptest.NewServer(web.New(cfg))
	t.Cleanup(e.srv.Close)
	return e
}

// checkout opens a checkout session for the fixture's plan.
func (e *env) checkout(ttl time.Duration) store.CheckoutSession {
	e.t.Helper()
	return e.checkoutFor(e.plan, ttl)
}

func (e *env) checkoutFor(plan domain.Plan, ttl time.Duration) store.CheckoutSession {
	e.t.Helper()
	cs, err := e.st.CreateCheckoutSession(context.Background(), store.CheckoutSession{MerchantRef: e.merchant,
		CustomerRef: e.customer.Ref, ProductRef: plan.ProductRef, PlanRef: plan.Ref, Mode: e.mode,
		ReturnURL: "https://acme.test/account"}, ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// portal opens a portal session for the fixture's customer.
func (e *env) portal(ttl time.Duration) store.CustomerSession {
	e.t.Helper()
	ps, err := e.st.CreateCustomerSession(context.Background(), store.CustomerSession{MerchantRef: e.merchant,
		CustomerRef: e.customer.Ref, Mode: e.mode, ReturnURL: "https://acme.test/account"}, ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

// client is a browser-like HTTP client: it keeps cookies and does not follow redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// purchases lists the customer's purchases in Postgres.
func (e *env) purchases() []domain.Purchase {
	e.t.Helper()
	list, _, err := e.st.ListPurchases(context.Background(), e.merchant, store.PurchaseFilter{CustomerRef: e.customer.Ref},
		store.Page{Page: 1, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}
