package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/domain"
)

// A refund is recorded in three steps around the processor's call, so Postgres decides how much
// of a payment may still be refunded before any money moves (the refunds_within_payment trigger
// holds the same rule for every writer):
//
//	ReserveRefund  a pending refund row under the refund's key, within what is left of the payment
//	(the processor refunds under the same key)
//	SettleRefund   the row succeeded, with the processor's id
//	ReleaseRefund  or, when the processor refused for good, the row is gone: nothing changed

// RefundReservation asks for a refund of one of a purchase's payments.
type RefundReservation struct {
	MerchantRef    string
	PurchaseRef    string
	PaymentRef     string // the payment's txn_
	Amount         int64  // 0: what is left of the payment
	IdempotencyKey string
	Reason         string
	Processor      string
	OccurredAt     time.Time // on the purchase's clock; zero is now
}

// ReserveRefund records the refund as pending under its key and answers it with the payment it
// refunds. A refund already recorded under the key (pending, or succeeded) is answered as it is,
// so a retried request refunds once. Refused, with nothing recorded: a transaction that is not
// a succeeded payment of the purchase, a key used for another refund, an amount above what is
// left of the payment.
func (s *Store) ReserveRefund(ctx context.Context, r RefundReservation) (refund, payment domain.Transaction, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		// the lock orders every refund of this payment behind this one
		payment, err = scanTxn(tx.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t
			WHERE t.merchant_id = $1 AND t.id = $2 FOR UPDATE OF t`, r.MerchantRef, r.PaymentRef))
		if err != nil {
			return notFoundIfNoRows(err, "transaction", r.PaymentRef)
		}
		if payment.Kind != domain.TxnPayment || payment.Status != domain.TxnSucceeded || payment.PurchaseRef != r.PurchaseRef {
			return domain.Errorf(domain.CodeInvalidField, "sourceTransactionRef", "transaction %s is not a payment of purchase %s",
				r.PaymentRef, r.PurchaseRef)
		}
		if refund, err = transactionByKey(ctx, tx, r.MerchantRef, r.IdempotencyKey); err == nil {
			if refund.Kind != domain.TxnRefund || refund.SourceRef != payment.Ref || (r.Amount != 0 && r.Amount != refund.Amount) {
				return domain.Errorf(domain.CodeConflict, "", "refund key %q was already used for another refund", r.IdempotencyKey)
			}
			return nil // this refund, asked again
		} else if domain.ErrorCode(err) != domain.CodeNotFound {
			return err
		}
		var reserved int64 // refunds succeeded or under way
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM transactions
			WHERE source_id = $1 AND kind = 'refund' AND status <> 'failed'`, payment.Ref).Scan(&reserved); err != nil {
			return fmt.Errorf("refunds of %s: %w", payment.Ref, err)
		}
		left, amount := payment.Amount-reserved, r.Amount
		if amount == 0 {
			amount = left
		}
		switch {
		case left <= 0:
			return domain.Errorf(domain.CodeConflict, "sourceTransactionRef", "payment %s is already fully refunded", payment.Ref)
		case amount < 0:
			return domain.Errorf(domain.CodeInvalidField, "amount", "a refund amount must be positive")
		case amount > left:
			return domain.Errorf(domain.CodeInvalidField, "amount", "cannot refund %d: only %d of payment %s (%d paid) remains to refund",
				amount, left, payment.Ref, payment.Amount)
		}
		refund, _, err = insertTransaction(ctx, tx, domain.Transaction{MerchantRef: r.MerchantRef, Kind: domain.TxnRefund,
			Status: domain.TxnPending, Amount: amount, Currency: payment.Currency, PurchaseRef: payment.PurchaseRef,
			CustomerRef: payment.CustomerRef, ProductRef: payment.ProductRef, SourceRef: payment.Ref, Period: payment.Period,
			Reason: r.Reason, IdempotencyKey: r.IdempotencyKey, Processor: r.Processor, OccurredAt: r.OccurredAt})
		return err
	})
	return refund, payment, err
}

// refundLimit reads the refunds_within_payment trigger's refusal as the amount error it is.
func refundLimit(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.ConstraintName == "refunds_within_payment" {
		return domain.Errorf(domain.CodeInvalidField, "amount", "%s", pg.Message)
	}
	return err
}

// SettleRefund marks a reserved refund succeeded with the processor's id. With onPurchase (the
// purchase's workflow has closed, so no projection write will count the refund) the purchase's
// refunded total grows by the refund and onPurchase is added to its audit log, in the same
// transaction and only once, however often a retried activity settles it.
func (s *Store) SettleRefund(ctx context.Context, merchant, ref, processorRef string, onPurchase *AuditEntry) (domain.Transaction, error) {
	var out domain.Transaction
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var amount int64
		var purchase string
		err := tx.QueryRow(ctx, `UPDATE transactions SET status = 'succeeded', processor_ref = $3
			WHERE merchant_id = $1 AND id = $2 AND status = 'pending' RETURNING amount, purchase_id`,
			merchant, ref, processorRef).Scan(&amount, &purchase)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // settled before
		case err != nil:
			return fmt.Errorf("settle refund %s: %w", ref, refundLimit(err))
		case onPurchase != nil:
			var status string
			if err := tx.QueryRow(ctx, `UPDATE purchases SET refunded_total = refunded_total + $3, updated_at = now()
				WHERE merchant_id = $1 AND id = $2 RETURNING status`, merchant, purchase, amount).Scan(&status); err != nil {
				return fmt.Errorf("refunded total of %s: %w", purchase, err)
			}
			e := *onPurchase
			e.MerchantRef, e.ObjectType, e.ObjectRef, e.FromStatus, e.ToStatus = merchant, "purchase", purchase, status, status
			if e.Data == nil {
				e.Data, _ = json.Marshal(map[string]any{"detail": fmt.Sprintf("refunded %d of %s", amount, ref)})
			}
			if _, err := insertAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		settled := err == nil
		out, err = scanTxn(tx.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.id = $2`,
			merchant, ref))
		if err != nil || !settled {
			return notFoundIfNoRows(err, "transaction", ref)
		}
		return transactionEvent(ctx, tx, out)
	})
	return out, err
}

// ReleaseRefund drops a reserved refund the processor refused for good: what is left of the
// payment is as before. A settled refund stays.
// The refund's event (refund.failed) carries it as it was, failed.
func (s *Store) ReleaseRefund(ctx context.Context, merchant, ref string) error {
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		t, err := scanTxn(tx.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.id = $2
			AND t.status = 'pending' FOR UPDATE`, merchant, ref))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM transactions WHERE merchant_id = $1 AND id = $2`, merchant, ref); err != nil {
			return err
		}
		t.Status = domain.TxnFailed
		return transactionEvent(ctx, tx, t)
	})
	if err != nil {
		return fmt.Errorf("release refund %s: %w", ref, err)
	}
	return nil
}

// SetClockOffset records how far a sandbox purchase's test clock runs ahead after an advance. The
// offset only grows (a test clock never goes back), so a late write changes nothing.
func (s *Store) SetClockOffset(ctx context.Context, merchant, purchaseRef string, offset time.Duration) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE purchases SET clock_offset_ms = greatest(clock_offset_ms, $3)
		WHERE merchant_id = $1 AND id = $2`, merchant, purchaseRef, offset.Milliseconds()); err != nil {
		return fmt.Errorf("clock of %s: %w", purchaseRef, err)
	}
	return nil
}
