package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Grants record what the starter asks of a purchase workflow that moves money, before it asks:
// the terms the purchase is bought on (GrantTerms, keyed by their digest) and each refund request
// (GrantRefund). The charge and refund activities refuse what is not recorded, so a workflow
// started or updated straight through Temporal, around the API, moves no money.

// GrantKind names what a grant allows.
type GrantKind string

const (
	GrantTerms  GrantKind = "terms"
	GrantRefund GrantKind = "refund"
)

// Grant is one recorded permission of a purchase.
type Grant struct {
	MerchantRef string
	PurchaseRef string
	Kind        GrantKind
	Key         string
	Detail      json.RawMessage // what was granted, for people reading the table
}

// RecordGrant stores g; recording the same grant again changes nothing.
func (s *Store) RecordGrant(ctx context.Context, g Grant) error {
	var detail []byte
	if len(g.Detail) > 0 {
		detail = g.Detail
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO purchase_grants (purchase_id, kind, key, merchant_id, detail)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`, g.PurchaseRef, g.Kind, g.Key, g.MerchantRef, detail)
	if err != nil {
		return fmt.Errorf("record %s grant of %s: %w", g.Kind, g.PurchaseRef, err)
	}
	return nil
}

// FindGrant answers a grant of kind for the purchase whose key is one of keys, and whether
// there is one.
func (s *Store) FindGrant(ctx context.Context, purchaseRef string, kind GrantKind, keys ...string) (Grant, bool, error) {
	g := Grant{PurchaseRef: purchaseRef, Kind: kind}
	var detail []byte
	err := s.Pool.QueryRow(ctx, `SELECT key, merchant_id, detail FROM purchase_grants
		WHERE purchase_id = $1 AND kind = $2 AND key = ANY($3) LIMIT 1`, purchaseRef, kind, keys).
		Scan(&g.Key, &g.MerchantRef, &detail)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("read %s grant of %s: %w", kind, purchaseRef, err)
	}
	g.Detail = detail
	return g, true, nil
}

// TermsOf answers the latest terms recorded for a purchase (their digest is the grant's key; a
// plan change records new ones), and whether there are any.
func (s *Store) TermsOf(ctx context.Context, purchaseRef string) (Grant, bool, error) {
	g := Grant{PurchaseRef: purchaseRef, Kind: GrantTerms}
	var detail []byte
	err := s.Pool.QueryRow(ctx, `SELECT key, merchant_id, detail FROM purchase_grants
		WHERE purchase_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1`, purchaseRef, GrantTerms).
		Scan(&g.Key, &g.MerchantRef, &detail)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("read terms of %s: %w", purchaseRef, err)
	}
	g.Detail = detail
	return g, true, nil
}
