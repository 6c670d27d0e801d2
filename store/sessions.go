package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// Session lifetimes (configurable by the server; these are the defaults of DESIGN.md).
const (
	CheckoutSessionTTL = 24 * time.Hour
	PortalSessionTTL   = 15 * time.Minute
)

// CheckoutSession is a hosted checkout for one customer buying one plan (cs_, unguessable).
type CheckoutSession struct {
	Ref         string `json:"reference"`
	MerchantRef string `json:"-"`
	CustomerRef string `json:"customerRef"`
	ProductRef  string `json:"productRef"`
	PlanRef     string `json:"planRef"`
	// Quantity is the seats the session buys (a per-seat plan charges price × quantity).
	Quantity int64 `json:"quantity"`
	// Mode is the mode of the key that created the session (sandbox or live; empty is sandbox):
	// its card and purchase go to that mode's processor.
	Mode        string     `json:"mode"`
	Status      string     `json:"status"` // open, complete, expired
	ReturnURL   string     `json:"returnUrl,omitempty"`
	PurchaseRef string     `json:"purchaseRef,omitempty"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	// FailedCardAttempts counts the cards refused on this session (see ClaimCardAttempt).
	FailedCardAttempts int `json:"-"`
}

// CustomerSession opens the customer portal (ps_, unguessable, short-lived).
type CustomerSession struct {
	Ref         string `json:"reference"`
	MerchantRef string `json:"-"`
	CustomerRef string `json:"customerRef"`
	// Mode is the mode of the key that created the session, as on a checkout session.
	Mode      string    `json:"mode"`
	ReturnURL string    `json:"returnUrl,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
	// FailedCardAttempts counts the cards refused on this session (see ClaimCardAttempt).
	FailedCardAttempts int `json:"-"`
}

// Expired reports whether the session can no longer be used at now.
func (c CheckoutSession) Expired(now time.Time) bool {
	return c.Status == "expired" || (c.Status == "open" && now.After(c.ExpiresAt))
}

// Expired reports whether the portal session is past its lifetime.
func (c CustomerSession) Expired(now time.Time) bool { return now.After(c.ExpiresAt) }

// Sandbox reports whether the session is a sandbox key's (domain.IsSandbox).
func (c CheckoutSession) Sandbox() bool { return domain.IsSandbox(c.Mode) }

// Sandbox reports whether the session is a sandbox key's (domain.IsSandbox).
func (c CustomerSession) Sandbox() bool { return domain.IsSandbox(c.Mode) }

// CreateCheckoutSession stores a new open session. The caller has checked that customer,
// product and plan belong to the merchant (foreign keys only prove they exist).
func (s *Store) CreateCheckoutSession(ctx context.Context, cs CheckoutSession, ttl time.Duration) (CheckoutSession, error) {
	if ttl <= 0 {
		ttl = cmp.Or(s.CheckoutTTL, CheckoutSessionTTL)
	}
	cs.Ref = domain.NewSecretRef(domain.PrefixCheckoutSession)
	cs.Status = "open"
	cs.Mode = domain.ModeOf(cs.Sandbox())
	cs.Quantity = domain.Quantity(cs.Quantity)
	err := s.Pool.QueryRow(ctx, `INSERT INTO checkout_sessions (id, merchant_id, customer_id, product_id, plan_id,
		return_url, expires_at, mode, quantity) VALUES ($1,$2,$3,$4,$5,$6, now() + $7::interval, $8, $9) RETURNING expires_at, created_at`,
		cs.Ref, cs.MerchantRef, cs.CustomerRef, cs.ProductRef, cs.PlanRef, cs.ReturnURL, ttl.String(), cs.Mode, cs.Quantity).
		Scan(&cs.ExpiresAt, &cs.CreatedAt)
	if err != nil {
		return cs, fmt.Errorf("create checkout session: %w", err)
	}
	return cs, nil
}

// GetCheckoutSession loads a session by its id alone (the id is the bearer secret of the page).
func (s *Store) GetCheckoutSession(ctx context.Context, ref string) (CheckoutSession, error) {
	return getCheckoutSession(ctx, s.Pool, ref)
}

func getCheckoutSession(ctx context.Context, db DBTX, ref string) (CheckoutSession, error) {
	var cs CheckoutSession
	var purchase *string
	err := db.QueryRow(ctx, `SELECT id, merchant_id, customer_id, product_id, plan_id, mode, status, return_url,
		purchase_id, expires_at, completed_at, created_at, failed_card_attempts, quantity FROM checkout_sessions WHERE id = $1`, ref).
		Scan(&cs.Ref, &cs.MerchantRef, &cs.CustomerRef, &cs.ProductRef, &cs.PlanRef, &cs.Mode, &cs.Status, &cs.ReturnURL,
			&purchase, &cs.ExpiresAt, &cs.CompletedAt, &cs.CreatedAt, &cs.FailedCardAttempts, &cs.Quantity)
	if purchase != nil {
		cs.PurchaseRef = *purchase
	}
	return cs, notFoundIfNoRows(err, "checkout session", ref)
}

// CompleteCheckoutSession marks an open session complete with its purchase, once: it reports
// false when the session was already complete (a double-clicked Pay). Completing writes the
// checkout.completed event in the same transaction.
func (s *Store) CompleteCheckoutSession(ctx context.Context, ref, purchaseRef string) (completed bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE checkout_sessions SET status = 'complete', purchase_id = $2,
			completed_at = now() WHERE id = $1 AND status = 'open'`, ref, purchaseRef)
		if completed = err == nil && tag.RowsAffected() == 1; !completed {
			return err
		}
		cs, err := getCheckoutSession(ctx, tx, ref)
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, newEvent{merchant: cs.MerchantRef, mode: cs.Mode, typ: domain.EventCheckoutCompleted,
			objectType: "checkout_session", objectRef: cs.Ref, object: cs})
	})
	return completed, err
}

// CreateCustomerSession stores a new portal session.
func (s *Store) CreateCustomerSession(ctx context.Context, ps CustomerSession, ttl time.Duration) (CustomerSession, error) {
	if ttl <= 0 {
		ttl = cmp.Or(s.PortalTTL, PortalSessionTTL)
	}
	ps.Ref = domain.NewSecretRef(domain.PrefixPortalSession)
	ps.Mode = domain.ModeOf(ps.Sandbox())
	err := s.Pool.QueryRow(ctx, `INSERT INTO customer_sessions (id, merchant_id, customer_id, return_url, expires_at, mode)
		VALUES ($1,$2,$3,$4, now() + $5::interval, $6) RETURNING expires_at, created_at`,
		ps.Ref, ps.MerchantRef, ps.CustomerRef, ps.ReturnURL, ttl.String(), ps.Mode).Scan(&ps.ExpiresAt, &ps.CreatedAt)
	if err != nil {
		return ps, fmt.Errorf("create customer session: %w", err)
	}
	return ps, nil
}

// GetCustomerSession loads a portal session by id.
func (s *Store) GetCustomerSession(ctx context.Context, ref string) (CustomerSession, error) {
	var ps CustomerSession
	err := s.Pool.QueryRow(ctx, `SELECT id, merchant_id, customer_id, mode, return_url, expires_at, created_at,
		failed_card_attempts FROM customer_sessions WHERE id = $1`, ref).
		Scan(&ps.Ref, &ps.MerchantRef, &ps.CustomerRef, &ps.Mode, &ps.ReturnURL, &ps.ExpiresAt, &ps.CreatedAt, &ps.FailedCardAttempts)
	return ps, notFoundIfNoRows(err, "customer session", ref)
}

// CheckoutForLimits returns an open checkout session of mode (the asking key's) for a blocked
// customer: one that is still open for at least an hour is reused, so a client hammering a
// blocked check does not fill the table with sessions.
func (s *Store) CheckoutForLimits(ctx context.Context, merchant, customer, product, plan, mode string) (CheckoutSession, error) {
	cs := CheckoutSession{MerchantRef: merchant, CustomerRef: customer, ProductRef: product, PlanRef: plan, Mode: mode}
	cs.Mode = domain.ModeOf(cs.Sandbox())
	err := s.Pool.QueryRow(ctx, `SELECT id, expires_at, created_at FROM checkout_sessions
		WHERE customer_id = $2 AND product_id = $3 AND plan_id = $4 AND status = 'open' AND merchant_id = $1
		AND expires_at > now() + interval '1 hour' AND return_url = '' AND mode = $5 ORDER BY expires_at DESC LIMIT 1`,
		merchant, customer, product, plan, cs.Mode).Scan(&cs.Ref, &cs.ExpiresAt, &cs.CreatedAt)
	if err == nil {
		cs.Status = "open"
		return cs, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return cs, fmt.Errorf("find checkout session: %w", err)
	}
	return s.CreateCheckoutSession(ctx, cs, 0)
}
