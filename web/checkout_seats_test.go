package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// A checkout session for seats of a per-seat plan shows and charges price × seats once, and the
// purchase it starts holds that many seats.
func TestCheckoutBuysSeats(t *testing.T) {
	var tc client.Client
	e := newEnv(t, realLifecycle(&tc))
	ctx := context.Background()
	team, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: "Team",
		Type: domain.PlanRecurring, Price: 1200, Currency: "USD", BillingCycle: domain.CycleMonthly, PerSeat: true})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.st.CreateCheckoutSession(ctx, store.CheckoutSession{MerchantRef: e.merchant, CustomerRef: e.customer.Ref,
		ProductRef: e.product.Ref, PlanRef: team.Ref, Mode: e.mode, Quantity: 3, ReturnURL: "https://acme.test/account"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	if !strings.Contains(body, "$36.00") || !strings.Contains(body, "3 seats") {
		t.Fatalf("checkout page does not show 3 seats at $36.00:\n%s", body)
	}
	resp, _ := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242424242424242", csrfOf(t, body)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	ps := e.purchases()
	if len(ps) != 1 || ps[0].Quantity != 3 || ps[0].Status != domain.PurchaseActive {
		t.Fatalf("purchases after checkout: %+v", ps)
	}
	charges, err := e.pay.(*sandbox.Processor).Charges(ctx, ps[0].Ref+"/")
	if err != nil || len(charges) != 1 || charges[0].Amount != 3600 {
		t.Fatalf("charges of %s: %+v %v", ps[0].Ref, charges, err)
	}
}
