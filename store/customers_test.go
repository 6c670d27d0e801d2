package store_test

import (
	"context"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCustomersAreTenantScoped(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	a, _ := testenv.Merchant(t, st, "A")
	b, _ := testenv.Merchant(t, st, "B")

	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: a, ExternalRef: "superstore-001", Email: "x@y.z", Status: domain.CustomerDraft})
	if err != nil {
		t.Fatal(err)
	}
	if !domain.HasPrefix(c.Ref, "cus") || c.Status != "DRAFT" {
		t.Fatalf("created %+v", c)
	}
	for _, ref := range []string{c.Ref, "superstore-001"} {
		if got, err := st.GetCustomer(ctx, a, ref); err != nil || got.Ref != c.Ref {
			t.Fatalf("get %s: %v %+v", ref, err, got)
		}
		if _, err := st.GetCustomer(ctx, b, ref); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("merchant B sees A's customer via %s: %v", ref, err)
		}
	}
	if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: a, ExternalRef: "superstore-001"}); domain.ErrorCode(err) != domain.CodeAlreadyExists {
		t.Fatalf("duplicate reference: %v", err)
	}
	// another merchant may use the same reference
	if _, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: b, ExternalRef: "superstore-001"}); err != nil {
		t.Fatal(err)
	}
	list, total, err := st.ListCustomers(ctx, a, store.CustomerFilter{}, store.Page{Page: 1, Limit: 10})
	if err != nil || total != 1 || len(list) != 1 {
		t.Fatalf("list: %v %d %d", err, total, len(list))
	}
	active := domain.CustomerActive
	up, err := st.UpdateCustomer(ctx, a, "superstore-001", store.CustomerPatch{Status: &active})
	if err != nil || up.Status != "ACTIVE" {
		t.Fatalf("activate: %v %+v", err, up)
	}
	if err := st.DeleteCustomer(ctx, a, c.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetCustomer(ctx, a, c.Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("deleted customer still found: %v", err)
	}
}
