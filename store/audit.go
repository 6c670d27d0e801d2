package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one state change of an object.
type AuditEntry struct {
	ID          int64           `json:"id"`
	MerchantRef string          `json:"-"`
	ObjectType  string          `json:"objectType"` // purchase, …
	ObjectRef   string          `json:"objectRef"`
	Action      string          `json:"action"` // activate, renew, cancel_renewal, …
	FromStatus  string          `json:"fromStatus,omitempty"`
	ToStatus    string          `json:"toStatus,omitempty"`
	Seq         int64           `json:"seq,omitempty"` // the workflow step; > 0 makes the row unique per step
	StepAt      time.Time       `json:"-"`             // the workflow time of the step (a reset run's steps are new)
	Actor       string          `json:"actor,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
}

// InsertAudit appends an entry. An entry with Seq > 0 is written once per (object, seq, action,
// step time), so a retried activity does not duplicate it.
func (s *Store) InsertAudit(ctx context.Context, e AuditEntry) error {
	_, err := insertAudit(ctx, s.Pool, e)
	return err
}

// insertAudit answers whether the entry was new (not a retried step's).
func insertAudit(ctx context.Context, db DBTX, e AuditEntry) (inserted bool, err error) {
	var data []byte
	if len(e.Data) > 0 {
		data = e.Data
	}
	tag, err := db.Exec(ctx, `INSERT INTO audit_log (merchant_id, object_type, object_id, action, from_status, to_status,
		seq, actor, data, step_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9, coalesce($10, '-infinity'::timestamptz))
		ON CONFLICT (object_id, seq, action, step_at) WHERE seq > 0 DO NOTHING`,
		e.MerchantRef, e.ObjectType, e.ObjectRef, e.Action, e.FromStatus, e.ToStatus, e.Seq, e.Actor, data, stepAt(e.StepAt))
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListAudit returns an object's entries of merchant, oldest first.
func (s *Store) ListAudit(ctx context.Context, merchant, objectRef string) ([]AuditEntry, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, merchant_id, object_type, object_id, action, from_status, to_status, seq,
		actor, data, created_at FROM audit_log WHERE merchant_id = $1 AND object_id = $2 ORDER BY id`, merchant, objectRef)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var data []byte
		err := r.Scan(&e.ID, &e.MerchantRef, &e.ObjectType, &e.ObjectRef, &e.Action, &e.FromStatus, &e.ToStatus, &e.Seq,
			&e.Actor, &data, &e.CreatedAt)
		if len(data) > 0 {
			e.Data = data
		}
		return e, err
	})
}
