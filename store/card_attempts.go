package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// Cards refused on the hosted pages are counted on the session rows (checkout and portal), so
// every API replica sees the same counts: a session is spent after a few, and a customer whose
// sessions were refused too often lately waits.

// sessionTable is the table of a checkout (cs_) or portal (ps_) session reference.
func sessionTable(sessionRef string) (string, error) {
	switch {
	case domain.HasPrefix(sessionRef, domain.PrefixCheckoutSession):
		return "checkout_sessions", nil
	case domain.HasPrefix(sessionRef, domain.PrefixPortalSession):
		return "customer_sessions", nil
	}
	return "", domain.NotFound("session", sessionRef)
}

// ClaimCardAttempt counts a card attempt on the session as refused before it is made, so that
// concurrent attempts on several replicas cannot pass the limit between them; ReleaseCardAttempt
// takes it back when the card is accepted. It reports false, counting nothing, when the session
// already has limit refused attempts.
func (s *Store) ClaimCardAttempt(ctx context.Context, sessionRef string, limit int) (bool, error) {
	table, err := sessionTable(sessionRef)
	if err != nil {
		return false, err
	}
	var n int
	err = s.Pool.QueryRow(ctx, `UPDATE `+table+` SET failed_card_attempts = failed_card_attempts + 1,
		last_card_failure_at = now() WHERE id = $1 AND failed_card_attempts < $2 RETURNING failed_card_attempts`,
		sessionRef, limit).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim card attempt: %w", err)
	}
	return true, nil
}

// ReleaseCardAttempt takes back an attempt ClaimCardAttempt counted, once the card was accepted.
func (s *Store) ReleaseCardAttempt(ctx context.Context, sessionRef string) error {
	table, err := sessionTable(sessionRef)
	if err != nil {
		return err
	}
	_, err = s.Pool.Exec(ctx, `UPDATE `+table+` SET failed_card_attempts = failed_card_attempts - 1,
		last_card_failure_at = CASE WHEN failed_card_attempts > 1 THEN last_card_failure_at END
		WHERE id = $1 AND failed_card_attempts > 0`, sessionRef)
	return err
}

// RecordCardFailure counts one more refused card on the session (a charge that failed after the
// card was accepted); it counts past the limit, the session being spent either way.
func (s *Store) RecordCardFailure(ctx context.Context, sessionRef string) error {
	table, err := sessionTable(sessionRef)
	if err != nil {
		return err
	}
	_, err = s.Pool.Exec(ctx, `UPDATE `+table+` SET failed_card_attempts = failed_card_attempts + 1,
		last_card_failure_at = now() WHERE id = $1`, sessionRef)
	return err
}

// CustomerCardFailures sums the refused card attempts of the customer's sessions whose last
// refusal is within window, and answers when the latest of them was.
func (s *Store) CustomerCardFailures(ctx context.Context, merchantRef, customerRef string, window time.Duration) (int, time.Time, error) {
	var n int
	var latest *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0), max(at) FROM (
		SELECT failed_card_attempts AS n, last_card_failure_at AS at FROM checkout_sessions
		 WHERE merchant_id = $1 AND customer_id = $2 AND last_card_failure_at > now() - $3::interval
		UNION ALL
		SELECT failed_card_attempts, last_card_failure_at FROM customer_sessions
		 WHERE merchant_id = $1 AND customer_id = $2 AND last_card_failure_at > now() - $3::interval) f`,
		merchantRef, customerRef, window.String()).Scan(&n, &latest)
	if err != nil || latest == nil {
		return n, time.Time{}, err
	}
	return n, *latest, nil
}
