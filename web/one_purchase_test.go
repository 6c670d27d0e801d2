package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
)

// 50 activate-plan calls without an Idempotency-Key and two checkouts paying at the same time,
// for one customer and product: one purchase, one charge, and every caller is told about it.
func TestOneLivePurchaseWhenActivationsAndCheckoutRace(t *testing.T) {
	var tc client.Client
	var sc *starter.Client
	e := newEnv(t, realLifecycleWith(&tc, &sc))
	ctx := context.Background()
	if _, err := testenv.AttachCard(ctx, e.st, e.pay, e.merchant, e.customer.Ref, "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(api.New(api.Config{Store: e.st, Payments: e.pay, Temporal: tc, Starter: sc}))
	t.Cleanup(apiSrv.Close)
	sessions := []string{e.checkout(0).Ref, e.checkout(0).Ref}
	tokens := make([]string, len(sessions))
	browsers := make([]*http.Client, len(sessions))
	for i, cs := range sessions {
		browsers[i] = e.client()
		_, body := get(t, browsers[i], e.srv.URL+"/checkout/"+cs)
		tokens[i] = csrfOf(t, body)
	}

	body := `{"customerRef":"` + e.customer.Ref + `","productRef":"` + e.product.Ref + `","planRef":"` + e.plan.Ref + `"}`
	var wg sync.WaitGroup
	answers := make([]map[string]any, 50)
	pages := make([]string, len(sessions))
	codes := make([]int, len(sessions))
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = activatePlan(apiSrv.URL, e.apiKey, body)
		}()
	}
	for i, cs := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := browsers[i].PostForm(e.srv.URL+"/checkout/"+cs, card("4242424242424242", tokens[i]))
			if err != nil {
				pages[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			codes[i], pages[i] = resp.StatusCode, string(b)
		}()
	}
	wg.Wait()

	ps := e.purchases()
	if len(ps) != 1 || ps[0].Status != domain.PurchaseActive {
		t.Fatalf("want one active purchase, got %d", len(ps))
	}
	ref := ps[0].Ref
	charges, err := e.pay.(*sandbox.Processor).Charges(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(charges) != 1 || charges[0].Amount != 4900 {
		t.Errorf("want one charge of 4900, got %+v", charges)
	}
	for i, a := range answers {
		pur, _ := a["purchase"].(map[string]any)
		if (a["status"] != "activated" && a["status"] != "already_active") || pur == nil || pur["reference"] != ref {
			t.Errorf("activation %d answered %v, want purchase %s", i, a, ref)
		}
	}
	for i := range sessions {
		if codes[i] != http.StatusSeeOther && !(codes[i] == http.StatusOK && strings.Contains(pages[i], "You already have Pro")) {
			t.Errorf("checkout %d answered %d:\n%s", i, codes[i], pages[i])
		}
	}
}

func activatePlan(base, key, body string) map[string]any {
	req, _ := http.NewRequest("POST", base+"/v1/activate-plan", strings.NewReader(body))
	req.Header.Set("X-API-KEY", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	out["httpStatus"] = resp.StatusCode
	return out
}

// A checkout for another plan of a product the customer has switches that purchase; a card that
// fails its first payment at checkout leaves the customer's working card as the default.
func TestCheckoutSwitchesPlanAndNeverReplacesAWorkingCard(t *testing.T) {
	var tc client.Client
	var sc *starter.Client
	e := newEnv(t, realLifecycleWith(&tc, &sc))
	ctx := context.Background()
	working, err := testenv.AttachCard(ctx, e.st, e.pay, e.merchant, e.customer.Ref, "4242424242424242")
	if err != nil {
		t.Fatal(err)
	}
	pro, err := sc.ActivatePlan(ctx, e.merchant, e.customer.Ref, e.product.Ref, e.plan.Ref, 0)
	if err != nil || pro.Status != starter.Activated {
		t.Fatalf("activate Pro: %+v %v", pro, err)
	}
	team, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: e.product.Ref, Name: "Team",
		Type: domain.PlanRecurring, Price: 9900, Currency: "USD", BillingCycle: domain.CycleMonthly})
	if err != nil {
		t.Fatal(err)
	}

	// Another product, paid with a card that attaches and then fails: the working card stays.
	other, err := e.st.CreateProduct(ctx, domain.Product{MerchantRef: e.merchant, Name: "Voice Bot"})
	if err != nil {
		t.Fatal(err)
	}
	voice, err := e.st.CreatePlan(ctx, domain.Plan{MerchantRef: e.merchant, ProductRef: other.Ref, Name: "Voice",
		Type: domain.PlanRecurring, Price: 1500, Currency: "USD", BillingCycle: domain.CycleMonthly})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	cs := e.checkoutFor(voice, 0)
	_, page := get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, page := post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4000 0000 0000 0341", csrfOf(t, page)))
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("failing card: %d\n%s", resp.StatusCode, page)
	}
	cus, err := e.st.GetCustomer(ctx, e.merchant, e.customer.Ref)
	if err != nil || cus.Card == nil || cus.Card.PaymentMethod != working.PaymentMethod {
		t.Fatalf("default card after a failed checkout: %+v %v, want %s", cus.Card, err, working.PaymentMethod)
	}

	// Checkout for Team while on Pro: the Pro purchase changes to Team in place, charged the
	// prorated difference (at most Team less Pro), and stays the one live purchase.
	cs = e.checkoutFor(team, 0)
	_, page = get(t, c, e.srv.URL+"/checkout/"+cs.Ref)
	resp, page = post(t, c, e.srv.URL+"/checkout/"+cs.Ref, card("4242 4242 4242 4242", csrfOf(t, page)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch at checkout: %d\n%s", resp.StatusCode, page)
	}
	live, err := e.st.LivePurchase(ctx, e.merchant, e.customer.Ref, e.product.Ref)
	if err != nil || live.PlanRef != team.Ref || live.Status != domain.PurchaseActive {
		t.Fatalf("live purchase after the switch: %+v %v", live, err)
	}
	if live.Ref != pro.Purchase.Ref || len(e.purchases()) != 2 { // Pro→Team and the failed Voice Bot
		t.Errorf("the switch made purchase %s, want the change of %s (%d purchases)", live.Ref, pro.Purchase.Ref, len(e.purchases()))
	}
	txns, _, err := e.st.ListTransactions(ctx, e.merchant, store.TransactionFilter{PurchaseRef: live.Ref, Status: domain.TxnSucceeded},
		store.Page{Page: 1, Limit: 10})
	if err != nil || len(txns) != 2 || txns[0].Amount+txns[1].Amount <= 4900 || txns[0].Amount+txns[1].Amount > 9900 {
		t.Errorf("payments of the changed purchase: %+v %v, want Pro's 4900 and a prorated difference", txns, err)
	}
}
