package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// APIKey is what a presented key authenticates: its merchant and mode, and what the key may do.
type APIKey struct {
	ID          string
	MerchantRef string
	Mode        string // sandbox or live
	ReadOnly    bool
	// ExpiresAt is when the key stops working (the old key of a rotation); zero: never.
	ExpiresAt time.Time
}

// Sandbox reports whether the key is a sandbox key (domain.IsSandbox).
func (k APIKey) Sandbox() bool { return domain.IsSandbox(k.Mode) }

// Expired reports whether the key has expired at now.
func (k APIKey) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// KeyInfo is an API key as an operator lists it: never the secret, only its first characters.
type KeyInfo struct {
	ID          string     `json:"id"`
	MerchantRef string     `json:"merchantRef"`
	Mode        string     `json:"mode"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	ReadOnly    bool       `json:"readOnly"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	RevokedAt   *time.Time `json:"revokedAt"`
}

// NewKey is a key just made: the one time its secret is shown.
type NewKey struct {
	KeyInfo
	Secret string `json:"secret"`
}

// KeySpec is what a new key is: its mode, a name to recognise it by, and whether it may only read.
type KeySpec struct {
	Mode     string
	Name     string
	ReadOnly bool
}

// MaxKeyExpiry bounds how long the old key of a rotation may keep working.
const MaxKeyExpiry = 90 * 24 * time.Hour

// Validate checks a key's spec with the API's messages (fields named as in the admin API).
func (k *KeySpec) Validate() error {
	k.Name = strings.TrimSpace(k.Name)
	switch k.Mode {
	case domain.ModeSandbox, domain.ModeLive:
	case "":
		return domain.Errorf(domain.CodeMissingField, "mode", "mode is required (sandbox or live)")
	default:
		return domain.Errorf(domain.CodeInvalidField, "mode", "mode must be sandbox or live, not %q", k.Mode)
	}
	if len(k.Name) > 100 {
		return domain.Errorf(domain.CodeInvalidField, "name", "name must be at most 100 characters")
	}
	return nil
}

// ValidateKeyExpiry checks how long the old key of a rotation keeps working: 0 (revoked at once)
// to MaxKeyExpiry.
func ValidateKeyExpiry(d time.Duration) error {
	if d < 0 || d > MaxKeyExpiry {
		return domain.Errorf(domain.CodeInvalidField, "expireOldIn", "expireOldIn must be between 0s and %s, not %s", MaxKeyExpiry, d)
	}
	return nil
}

// HashAPIKey is how keys are stored: sha256 (keys are 190 random bits, so no slow hash is needed).
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// keyPrefix is how much of a key is kept in clear to recognise it in a list: its mode's prefix
// and four random characters (sk_sandbox_Ab3d, sk_live_Ab3d).
func keyPrefix(key string) string {
	i := strings.LastIndexByte(key, '_') + 5
	return key[:min(len(key), i)]
}

func newKeySecret(mode string) string { return domain.NewSecretRef("sk_" + mode) }

// AddAPIKey stores a given key for a merchant (used by dev mode to keep its printed key stable).
func (s *Store) AddAPIKey(ctx context.Context, merchantRef, key, mode string) error {
	_, err := insertAPIKey(ctx, s.Pool, merchantRef, key, KeySpec{Mode: mode})
	return err
}

func insertAPIKey(ctx context.Context, db DBTX, merchantRef, key string, spec KeySpec) (KeyInfo, error) {
	k := KeyInfo{ID: domain.NewRef(domain.PrefixAPIKey), MerchantRef: merchantRef, Mode: spec.Mode, Name: spec.Name,
		Prefix: keyPrefix(key), ReadOnly: spec.ReadOnly}
	err := db.QueryRow(ctx, `INSERT INTO api_keys (id, key_hash, merchant_id, mode, prefix, name, read_only)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_hash) DO NOTHING RETURNING created_at`,
		k.ID, HashAPIKey(key), merchantRef, spec.Mode, k.Prefix, spec.Name, spec.ReadOnly).Scan(&k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil // the same key again (dev mode's stable key)
	}
	return k, err
}

// Authenticate resolves an API key; an unknown, revoked or expired key is UNAUTHORISED. The
// row is found by the key's SHA-256 and the stored hash compared in constant time, so how long
// the answer takes says nothing about any stored key.
func (s *Store) Authenticate(ctx context.Context, key string) (APIKey, error) {
	var k APIKey
	var stored []byte
	var expires *time.Time
	hash := HashAPIKey(key)
	err := s.Pool.QueryRow(ctx, `SELECT key_hash, id, merchant_id, mode, read_only, expires_at FROM api_keys
		WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		hash).Scan(&stored, &k.ID, &k.MerchantRef, &k.Mode, &k.ReadOnly, &expires)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare(stored, hash) != 1) {
		return APIKey{}, domain.Errorf(domain.CodeUnauthorised, "", "invalid API key")
	}
	if expires != nil {
		k.ExpiresAt = *expires
	}
	return k, err
}

// TouchAPIKey records that the key of this hash was used now (callers do it at most about once
// a minute per key: it is a write).
func (s *Store) TouchAPIKey(ctx context.Context, hash []byte) error {
	_, err := s.Pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1`, hash)
	return err
}

const keyColumns = `id, merchant_id, mode, name, prefix, read_only, created_at, last_used_at, expires_at, revoked_at`

func scanKey(row pgx.Row) (KeyInfo, error) {
	var k KeyInfo
	err := row.Scan(&k.ID, &k.MerchantRef, &k.Mode, &k.Name, &k.Prefix, &k.ReadOnly, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt, &k.RevokedAt)
	return k, err
}

// CreateAPIKey makes a new key for a merchant; its secret is in the answer and nowhere else.
func (s *Store) CreateAPIKey(ctx context.Context, merchantRef string, spec KeySpec) (NewKey, error) {
	if err := spec.Validate(); err != nil {
		return NewKey{}, err
	}
	if _, err := s.GetMerchant(ctx, merchantRef); err != nil {
		return NewKey{}, err
	}
	secret := newKeySecret(spec.Mode)
	k, err := insertAPIKey(ctx, s.Pool, merchantRef, secret, spec)
	if err != nil {
		return NewKey{}, fmt.Errorf("create API key: %w", err)
	}
	return NewKey{KeyInfo: k, Secret: secret}, nil
}

// ListAPIKeys lists a merchant's keys, newest first, revoked ones too.
func (s *Store) ListAPIKeys(ctx context.Context, merchantRef string) ([]KeyInfo, error) {
	if _, err := s.GetMerchant(ctx, merchantRef); err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE merchant_id = $1 ORDER BY created_at DESC, id`, merchantRef)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyInfo, error) { return scanKey(r) })
}

// GetAPIKey loads a key by id.
func (s *Store) GetAPIKey(ctx context.Context, id string) (KeyInfo, error) {
	k, err := scanKey(s.Pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, notFoundIfNoRows(err, "API key", id)
}

// RevokeAPIKey stops a key now, on every API replica (the change is announced on commit,
// APIKeyChannel). Revoking a revoked key answers it unchanged.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (KeyInfo, error) {
	k, err := scanKey(s.Pool.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
		RETURNING `+keyColumns, id))
	return k, notFoundIfNoRows(err, "API key", id)
}

// RotateAPIKey makes a new key like the old one (merchant, mode, name, read-only) and lets the
// old one work for expireOldIn more (0: revoked at once; an earlier expiry is kept). A revoked
// or expired key is not rotated: make a new one.
func (s *Store) RotateAPIKey(ctx context.Context, id string, expireOldIn time.Duration) (NewKey, KeyInfo, error) {
	if err := ValidateKeyExpiry(expireOldIn); err != nil {
		return NewKey{}, KeyInfo{}, err
	}
	var out NewKey
	var old KeyInfo
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		old, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, id))
		if err = notFoundIfNoRows(err, "API key", id); err != nil {
			return err
		}
		if old.RevokedAt != nil || (old.ExpiresAt != nil && !old.ExpiresAt.After(time.Now())) {
			return domain.Errorf(domain.CodeConflict, "", "API key %q is revoked or expired; create a new key instead", id)
		}
		spec := KeySpec{Mode: old.Mode, Name: old.Name, ReadOnly: old.ReadOnly}
		out.Secret = newKeySecret(spec.Mode)
		if out.KeyInfo, err = insertAPIKey(ctx, tx, old.MerchantRef, out.Secret, spec); err != nil {
			return err
		}
		old, err = scanKey(tx.QueryRow(ctx, `UPDATE api_keys SET expires_at = least(coalesce(expires_at, 'infinity'), now() + $2::interval)
			WHERE id = $1 RETURNING `+keyColumns, id, expireOldIn))
		return err
	})
	return out, old, err
}

// APIKeyChannel is where Postgres announces a change that may refuse a key (migration 00160's
// trigger): the key's SHA-256 in hex, when the change commits (see Listen).
const APIKeyChannel = "tollgate_api_keys"
