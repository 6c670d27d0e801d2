package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdempotencyTTL is how long a request key is remembered (at least 24 h, as Stripe does).
const IdempotencyTTL = 24 * time.Hour

// abandonedAfter frees a claim whose request never finished (the process died, or the database
// went away before the claim could be released), so the client's retry runs instead of getting
// "in progress" for a day. No request runs this long: the server's write timeout is shorter.
const abandonedAfter = 2 * time.Minute

// IdempotencyRecord is a remembered request and, once finished, its response.
type IdempotencyRecord struct {
	RequestHash []byte
	StatusCode  *int
	Body        []byte
}

// BeginIdempotent claims key for a request. It returns (nil, nil) when the claim is new, and the
// earlier record when the key was used before (finished or still in flight). Keys older than the
// TTL are forgotten.
func (s *Store) BeginIdempotent(ctx context.Context, merchant, key, method, path string, hash []byte) (*IdempotencyRecord, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO idempotency_records (merchant_id, key, method, path, request_hash)
		VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (merchant_id, key) DO UPDATE SET method = EXCLUDED.method, path = EXCLUDED.path,
			request_hash = EXCLUDED.request_hash, status_code = NULL, response_body = NULL, created_at = now()
		WHERE idempotency_records.created_at < now() - $6::interval
			OR (idempotency_records.status_code IS NULL AND idempotency_records.created_at < now() - $7::interval)`,
		merchant, key, method, path, hash, IdempotencyTTL.String(), abandonedAfter.String())
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var rec IdempotencyRecord
	err = s.Pool.QueryRow(ctx, `SELECT request_hash, status_code, response_body FROM idempotency_records
		WHERE merchant_id = $1 AND key = $2`, merchant, key).Scan(&rec.RequestHash, &rec.StatusCode, &rec.Body)
	if errors.Is(err, pgx.ErrNoRows) { // deleted between the two statements: claim again
		return s.BeginIdempotent(ctx, merchant, key, method, path, hash)
	}
	return &rec, err
}

// FinishIdempotent stores the response of a claimed key.
func (s *Store) FinishIdempotent(ctx context.Context, merchant, key string, status int, body []byte) error {
	_, err := s.Pool.Exec(ctx, `UPDATE idempotency_records SET status_code = $3, response_body = $4
		WHERE merchant_id = $1 AND key = $2`, merchant, key, status, body)
	return err
}

// ReleaseIdempotent forgets a claim whose request failed on our side, so the client may retry.
func (s *Store) ReleaseIdempotent(ctx context.Context, merchant, key string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM idempotency_records WHERE merchant_id = $1 AND key = $2`, merchant, key)
	return err
}
