package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// EventRetention is how long events are kept and listed.
const EventRetention = 30 * 24 * time.Hour

// newEvent is an event to write beside its change. Dedupe, when set, names the change: a second
// write of the same change (a retried activity) writes no second event.
type newEvent struct {
	merchant, mode, typ   string
	objectType, objectRef string
	object                any
	dedupe                string
}

// insertEvent writes an event in db, the transaction of the change it reports.
func insertEvent(ctx context.Context, db DBTX, e newEvent) error {
	if e.typ == "" {
		return nil
	}
	obj, err := json.Marshal(e.object)
	if err != nil {
		return fmt.Errorf("event %s: %w", e.typ, err)
	}
	var dedupe *string
	if e.dedupe != "" {
		dedupe = &e.dedupe
	}
	mode := domain.ModeSandbox
	if e.mode == domain.ModeLive {
		mode = domain.ModeLive
	}
	if _, err := db.Exec(ctx, `INSERT INTO events (id, merchant_id, mode, type, object_type, object_id, object, dedupe_key)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (merchant_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		domain.NewTimedRef(domain.PrefixEvent, time.Now()), e.merchant, mode, e.typ, e.objectType, e.objectRef, obj, dedupe); err != nil {
		return fmt.Errorf("event %s of %s: %w", e.typ, e.objectRef, err)
	}
	return nil
}

// customerEvent is the event of a change to a customer, in the acting key's mode.
func customerEvent(ctx context.Context, typ string, c domain.Customer) newEvent {
	return newEvent{merchant: c.MerchantRef, mode: domain.ModeFrom(ctx), typ: typ, objectType: "customer",
		objectRef: c.Ref, object: c}
}

// purchaseEvent is the event of a purchase step, the purchase as it is after it.
func purchaseEvent(typ string, p domain.Purchase, dedupe string) newEvent {
	return newEvent{merchant: p.MerchantRef, mode: domain.ModeOf(p.Sandbox), typ: typ, objectType: "purchase",
		objectRef: p.Ref, object: p.View(), dedupe: dedupe}
}

// transactionEvent writes the event of a payment or refund that reached succeeded or failed
// (a pending one has nothing to report yet), and its document (invoices_issue.go): a succeeded
// one's, a processing payment's open invoice, a failed one's open invoice voided. Its mode is
// its purchase's, or its processor's.
func transactionEvent(ctx context.Context, db DBTX, t domain.Transaction) error {
	var typ string
	switch t.Kind + "." + t.Status {
	case domain.TxnPayment + "." + domain.TxnSucceeded:
		typ = domain.EventPaymentSucceeded
	case domain.TxnPayment + "." + domain.TxnFailed:
		typ = domain.EventPaymentFailed
	case domain.TxnRefund + "." + domain.TxnSucceeded:
		typ = domain.EventRefundSucceeded
	case domain.TxnRefund + "." + domain.TxnFailed:
		typ = domain.EventRefundFailed
	default:
		if t.Kind != domain.TxnPayment || t.Status != domain.TxnPending {
			return nil
		}
	}
	mode, err := transactionMode(ctx, db, t)
	if err != nil {
		return err
	}
	if err := insertEvent(ctx, db, newEvent{merchant: t.MerchantRef, mode: mode, typ: typ,
		objectType: "transaction", objectRef: t.Ref, object: t}); err != nil {
		return err
	}
	// the money's document (invoice or credit note) is issued in the same transaction
	return issueDocument(ctx, db, t, mode)
}

// transactionMode is the mode of a transaction: its purchase's, or its processor's.
func transactionMode(ctx context.Context, db DBTX, t domain.Transaction) (string, error) {
	sandbox := t.Processor == "sandbox"
	if t.PurchaseRef != "" {
		if err := db.QueryRow(ctx, `SELECT sandbox FROM purchases WHERE id = $1`, t.PurchaseRef).Scan(&sandbox); err != nil &&
			err != pgx.ErrNoRows {
			return "", fmt.Errorf("mode of %s: %w", t.Ref, err)
		}
	}
	return domain.ModeOf(sandbox), nil
}

// EventFilter narrows ListEvents. Zero fields do not filter; From is inclusive, To exclusive.
type EventFilter struct {
	Mode      string
	Type      string
	ObjectRef string
	From, To  time.Time
}

const eventCols = `id, merchant_id, type, mode, object_type, object_id, object, created_at`

func scanEvent(row pgx.Row) (domain.Event, error) {
	var e domain.Event
	err := row.Scan(&e.Ref, &e.MerchantRef, &e.Type, &e.Mode, &e.ObjectType, &e.ObjectRef, &e.Object, &e.CreatedAt)
	return e, err
}

// ListEvents returns one page of the merchant's events of one mode within the retention, newest
// first, and the total.
func (s *Store) ListEvents(ctx context.Context, merchant string, f EventFilter, p Page) ([]domain.Event, int, error) {
	q := newWhere("merchant_id = $1", merchant)
	q.add("mode = $%d", f.Mode)
	q.add("created_at >= $%d", time.Now().Add(-EventRetention))
	if f.Type != "" {
		q.add("type = $%d", f.Type)
	}
	if f.ObjectRef != "" {
		q.add("object_id = $%d", f.ObjectRef)
	}
	if !f.From.IsZero() {
		q.add("created_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		q.add("created_at < $%d", f.To)
	}
	return listPage(ctx, s.Pool, "events", eventCols, q, "created_at DESC, id DESC", p, scanEvent)
}

// GetEvent finds an event of merchant in mode within the retention. Another merchant's event,
// or another mode's, is not found.
func (s *Store) GetEvent(ctx context.Context, merchant, mode, ref string) (domain.Event, error) {
	e, err := scanEvent(s.Pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE merchant_id = $1 AND mode = $2
		AND id = $3 AND created_at >= $4`, merchant, mode, ref, time.Now().Add(-EventRetention)))
	return e, notFoundIfNoRows(err, "event", ref)
}

// PruneEvents deletes the events older than the retention (with their deliveries' records), and
// answers how many.
func (s *Store) PruneEvents(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// attempts go with their deliveries (ON DELETE CASCADE)
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM events WHERE created_at < $1)`,
			now.Add(-EventRetention)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE created_at < $1`, now.Add(-EventRetention))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}

// settledEvent writes the event of a transaction that has just settled.
func settledEvent(ctx context.Context, db DBTX, merchant, ref string) error {
	t, err := scanTxn(db.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.id = $2`,
		merchant, ref))
	if err != nil {
		return fmt.Errorf("read transaction %s: %w", ref, err)
	}
	return transactionEvent(ctx, db, t)
}
