package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// TestSessionLifetimesAreConfigurable: --checkout-ttl and --portal-ttl reach every new session.
func TestSessionLifetimesAreConfigurable(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "A")
	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: "a@b.co"})
	if err != nil {
		t.Fatal(err)
	}
	life := func(ps store.CustomerSession) time.Duration { return ps.ExpiresAt.Sub(ps.CreatedAt).Round(time.Second) }

	ps, err := st.CreateCustomerSession(ctx, store.CustomerSession{MerchantRef: m, CustomerRef: c.Ref}, 0)
	if err != nil || life(ps) != store.PortalSessionTTL {
		t.Fatalf("default portal lifetime: %v %v", err, life(ps))
	}
	st.PortalTTL = 3 * time.Minute
	ps, err = st.CreateCustomerSession(ctx, store.CustomerSession{MerchantRef: m, CustomerRef: c.Ref}, 0)
	if err != nil || life(ps) != 3*time.Minute {
		t.Fatalf("configured portal lifetime: %v %v", err, life(ps))
	}
	if len(ps.Ref) < len("ps_")+22 { // ≥ 128 bits of base62
		t.Fatalf("session id too short to be unguessable: %s", ps.Ref)
	}
}
