package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// ReserveCheckoutPurchase returns the purchase reference an open checkout session is paying
// for, storing candidate when it has none yet. Concurrent calls (a double-clicked Pay) all get
// the first stored reference, so they start one workflow between them. A session that is no
// longer open answers CONFLICT.
func (s *Store) ReserveCheckoutPurchase(ctx context.Context, sessionRef, candidate string) (string, error) {
	var ref string
	err := s.Pool.QueryRow(ctx, `UPDATE checkout_sessions SET attempt_purchase_id = coalesce(attempt_purchase_id, $2)
		WHERE id = $1 AND status = 'open' RETURNING attempt_purchase_id`, sessionRef, candidate).Scan(&ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", domain.Errorf(domain.CodeConflict, "", "checkout session %s is not open", sessionRef)
	}
	return ref, err
}

// CheckoutAttempt returns the purchase reserved by an open session, or "" when none is.
func (s *Store) CheckoutAttempt(ctx context.Context, sessionRef string) (string, error) {
	var ref *string
	err := s.Pool.QueryRow(ctx, `SELECT attempt_purchase_id FROM checkout_sessions WHERE id = $1`, sessionRef).Scan(&ref)
	if err != nil {
		return "", notFoundIfNoRows(err, "checkout session", sessionRef)
	}
	if ref == nil {
		return "", nil
	}
	return *ref, nil
}

// ReleaseCheckoutPurchase forgets the reserved purchase after its first payment failed, so the
// customer's next try (another card) starts a new purchase. It only clears purchaseRef: a
// concurrent try that already reserved a newer one keeps it.
func (s *Store) ReleaseCheckoutPurchase(ctx context.Context, sessionRef, purchaseRef string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE checkout_sessions SET attempt_purchase_id = NULL, on_session_ref = ''
		WHERE id = $1 AND status = 'open' AND attempt_purchase_id = $2`, sessionRef, purchaseRef)
	return err
}

// FailCheckoutPurchase is ReleaseCheckoutPurchase for a purchase whose first payment was
// refused: it also counts a refused card on the session. It reports whether this call released
// it, so a failure seen by two requests (Pay and a reload) counts once.
func (s *Store) FailCheckoutPurchase(ctx context.Context, sessionRef, purchaseRef string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE checkout_sessions SET attempt_purchase_id = NULL, on_session_ref = '',
		failed_card_attempts = failed_card_attempts + 1, last_card_failure_at = now()
		WHERE id = $1 AND status = 'open' AND attempt_purchase_id = $2`, sessionRef, purchaseRef)
	return err == nil && tag.RowsAffected() == 1, err
}

// SetCheckoutOnSession records the confirmation made at checkout with the customer present (a
// payment pi_…/ch_sb_…, or a setup seti_…) for the session's reserved purchase.
func (s *Store) SetCheckoutOnSession(ctx context.Context, sessionRef, purchaseRef, ref string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE checkout_sessions SET on_session_ref = $3
		WHERE id = $1 AND status = 'open' AND attempt_purchase_id = $2`, sessionRef, purchaseRef, ref)
	return err
}

// CheckoutOnSession returns the session's reserved purchase and its confirmation made on
// session ("" for either when there is none).
func (s *Store) CheckoutOnSession(ctx context.Context, sessionRef string) (purchaseRef, ref string, err error) {
	var p *string
	err = s.Pool.QueryRow(ctx, `SELECT attempt_purchase_id, on_session_ref FROM checkout_sessions WHERE id = $1`,
		sessionRef).Scan(&p, &ref)
	if err != nil {
		return "", "", notFoundIfNoRows(err, "checkout session", sessionRef)
	}
	if p == nil {
		return "", "", nil
	}
	return *p, ref, nil
}
