package store_test

import (
	"context"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

func TestProductsAreTenantScoped(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	a, _ := testenv.Merchant(t, st, "A")
	b, _ := testenv.Merchant(t, st, "B")

	if _, err := st.CreateProduct(ctx, domain.Product{MerchantRef: a}); domain.ErrorCode(err) != domain.CodeMissingField {
		t.Fatalf("nameless product: %v", err)
	}
	p, err := st.CreateProduct(ctx, domain.Product{MerchantRef: a, Name: "Weather API", Metadata: map[string]string{"k": "v"}})
	if err != nil || !domain.HasPrefix(p.Ref, "prd") || p.Status != "active" || p.Metadata["k"] != "v" {
		t.Fatalf("create: %v %+v", err, p)
	}
	if _, err := st.GetProduct(ctx, b, p.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B sees A's product: %v", err)
	}
	if _, err := st.UpdateProduct(ctx, b, p.Ref, store.ProductPatch{}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B updates A's product: %v", err)
	}
	if err := st.DeleteProduct(ctx, b, p.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B deletes A's product: %v", err)
	}
	for i := 0; i < 4; i++ {
		if _, err := st.CreateProduct(ctx, domain.Product{MerchantRef: a, Name: "Other"}); err != nil {
			t.Fatal(err)
		}
	}
	list, total, err := st.ListProducts(ctx, a, store.ProductFilter{}, store.Page{Page: 2, Limit: 2})
	if err != nil || total != 5 || len(list) != 2 {
		t.Fatalf("page 2: %v total=%d len=%d", err, total, len(list))
	}
	list, total, _ = st.ListProducts(ctx, a, store.ProductFilter{Search: "weather"}, store.Page{Page: 1, Limit: 10})
	if total != 1 || list[0].Ref != p.Ref {
		t.Fatalf("search: %d %+v", total, list)
	}
	archived := domain.StatusArchived
	up, err := st.UpdateProduct(ctx, a, p.Ref, store.ProductPatch{Status: &archived})
	if err != nil || up.Status != "archived" || up.Name != "Weather API" {
		t.Fatalf("update: %v %+v", err, up)
	}
	bad := "gone"
	if _, err := st.UpdateProduct(ctx, a, p.Ref, store.ProductPatch{Status: &bad}); domain.ErrorCode(err) != domain.CodeInvalidField {
		t.Fatalf("bad status: %v", err)
	}
	if err := st.DeleteProduct(ctx, a, p.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetProduct(ctx, a, p.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("deleted product found: %v", err)
	}
}

func TestPlansKeepOneDefault(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	a, _ := testenv.Merchant(t, st, "A")
	b, _ := testenv.Merchant(t, st, "B")
	prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: a, Name: "API"})
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(1000)
	basic, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: a, ProductRef: prd.Ref, Name: "Basic", Type: domain.PlanRecurring,
		Price: 999, Currency: "usd", TrialDays: 14, Limit: &limit, Features: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if !basic.IsDefault || basic.Currency != "USD" || basic.BillingCycle != domain.CycleMonthly || *basic.Limit != 1000 || basic.TrialDays != 14 {
		t.Fatalf("first plan: %+v", basic)
	}
	payg, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: a, ProductRef: prd.Ref, Name: "PAYG", Type: domain.PlanUsageBased,
		UnitPrice: 2, FreeUnits: 100})
	if err != nil || payg.IsDefault || payg.Meter != store.DefaultPlanMeter {
		t.Fatalf("second plan: %v %+v", err, payg)
	}
	yes := true
	if _, err := st.UpdatePlan(ctx, a, payg.Ref, store.PlanPatch{IsDefault: &yes}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetPlan(ctx, a, basic.Ref); got.IsDefault {
		t.Fatal("two default plans")
	}
	if d, err := st.DefaultPlan(ctx, a, prd.Ref); err != nil || d.Ref != payg.Ref {
		t.Fatalf("default: %v %+v", err, d)
	}
	no := false
	if _, err := st.UpdatePlan(ctx, a, payg.Ref, store.PlanPatch{IsDefault: &no}); domain.ErrorCode(err) != domain.CodeInvalidField {
		t.Fatalf("un-defaulting: %v", err)
	}
	if err := st.DeletePlan(ctx, a, payg.Ref); err != nil {
		t.Fatal(err)
	}
	if d, err := st.DefaultPlan(ctx, a, prd.Ref); err != nil || d.Ref != basic.Ref {
		t.Fatalf("default after delete: %v %+v", err, d)
	}
	if _, err := st.GetPlan(ctx, b, basic.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B sees A's plan: %v", err)
	}
	if _, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: b, ProductRef: prd.Ref, Name: "x", Type: domain.PlanFree}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B adds a plan to A's product: %v", err)
	}
	list, total, err := st.ListPlans(ctx, a, prd.Ref, store.Page{Page: 1, Limit: 10})
	if err != nil || total != 1 || len(list) != 1 {
		t.Fatalf("list: %v %d %d", err, total, len(list))
	}
	if p, _ := st.GetPlanAnyState(ctx, a, payg.Ref); p.Ref != payg.Ref {
		t.Fatal("a deleted plan must stay readable for running purchases")
	}
}

func TestPlanValidation(t *testing.T) {
	cases := []struct {
		plan  domain.Plan
		field string
	}{
		{domain.Plan{Type: domain.PlanRecurring}, "name"},
		{domain.Plan{Name: "x"}, "type"},
		{domain.Plan{Name: "x", Type: "weird"}, "type"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, Price: -1}, "price"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, Currency: "dollars"}, "currency"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, BillingCycle: domain.CycleCustom}, "cycleDays"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, BillingCycle: "fortnightly"}, "billingCycle"},
		{domain.Plan{Name: "x", Type: domain.PlanOneTime, BillingCycle: domain.CycleMonthly}, "billingCycle"},
		{domain.Plan{Name: "x", Type: domain.PlanFree, Price: 5}, "price"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, AccessDays: 3}, "accessDays"},
		{domain.Plan{Name: "x", Type: domain.PlanRecurring, Status: "gone"}, "status"},
	}
	for _, c := range cases {
		err := store.ValidatePlan(&c.plan)
		if e := domain.AsError(err); e == nil || e.Field != c.field {
			t.Errorf("%+v: got %v, want an error on %s", c.plan, err, c.field)
		}
	}
	ok := domain.Plan{Name: "Lifetime", Type: domain.PlanOneTime, Price: 4900, AccessDays: 365}
	if err := store.ValidatePlan(&ok); err != nil || ok.BillingCycle != "" {
		t.Fatalf("one-time: %v %+v", err, ok)
	}
}

func TestMeters(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	a, _ := testenv.Merchant(t, st, "A")
	b, _ := testenv.Merchant(t, st, "B")
	m, err := st.CreateMeter(ctx, domain.Meter{MerchantRef: a, Name: "tool:search"})
	if err != nil || !domain.HasPrefix(m.Ref, "mtr") {
		t.Fatalf("create: %v %+v", err, m)
	}
	if _, err := st.CreateMeter(ctx, domain.Meter{MerchantRef: a, Name: "tool:search"}); domain.ErrorCode(err) != domain.CodeAlreadyExists {
		t.Fatalf("duplicate: %v", err)
	}
	list, total, err := st.ListMeters(ctx, a, store.Page{Page: 1, Limit: 50})
	if err != nil || total != len(domain.DefaultMeters)+1 || len(list) != total {
		t.Fatalf("list: %v %d", err, total)
	}
	if _, err := st.GetMeter(ctx, b, m.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("B sees A's meter: %v", err)
	}
	if got, err := st.GetMeter(ctx, a, "tool:search"); err != nil || got.Ref != m.Ref {
		t.Fatalf("by name: %v", err)
	}
	if err := st.DeleteMeter(ctx, a, "tokens"); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("delete default meter: %v", err)
	}
	if err := st.DeleteMeter(ctx, a, m.Ref); err != nil {
		t.Fatal(err)
	}
}
