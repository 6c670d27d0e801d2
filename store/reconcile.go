package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// Reconciliation with the payment processor (workflows/reconcile.go): what the processor holds
// is matched to the ledger by the processor's id, missed objects are adopted, and ledger rows
// the processor does not know are flagged.

// FlagUnknownToProcessor is the reconcile_flag of a transaction the processor does not know.
const FlagUnknownToProcessor = "unknown_to_processor"

// ProcessorTransaction finds the transaction of kind (payment or refund) that a processor's
// object (pi_…, ch_sb_…, re_…) was recorded as, whichever merchant it belongs to.
func (s *Store) ProcessorTransaction(ctx context.Context, processor, kind, ref string) (domain.Transaction, error) {
	t, err := scanTxn(s.Pool.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t
		WHERE t.processor_ref = $1 AND t.processor = $2 AND t.kind = $3
		ORDER BY t.status = 'failed', t.created_at DESC LIMIT 1`, ref, processor, kind))
	return t, notFoundIfNoRows(err, kind, ref)
}

// PurchaseOwner reads the merchant, customer and product of a purchase, whichever merchant it
// belongs to: a processor's metadata names the purchase only.
func (s *Store) PurchaseOwner(ctx context.Context, ref string) (merchant, customer, product string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT merchant_id, customer_id, product_id FROM purchases WHERE id = $1`, ref).
		Scan(&merchant, &customer, &product)
	return merchant, customer, product, notFoundIfNoRows(err, "purchase", ref)
}

// AdoptTransaction records a payment or refund the processor holds and the ledger missed, with
// an audit row of the purchase, in one Postgres transaction. Like InsertTransaction it records
// a key once: a second adoption under the same key answers the first row and created=false.
func (s *Store) AdoptTransaction(ctx context.Context, t domain.Transaction, detail string) (out domain.Transaction, created bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		out, created, err = insertTransaction(ctx, tx, t)
		if err != nil || !created {
			return err
		}
		data, _ := json.Marshal(map[string]any{"detail": detail, "transaction": out.Ref, "processorRef": out.ProcessorRef,
			"amount": out.Amount, "currency": out.Currency})
		_, err = insertAudit(ctx, tx, AuditEntry{MerchantRef: out.MerchantRef, ObjectType: "purchase", ObjectRef: out.PurchaseRef,
			Action: "reconcile_adopted_" + out.Kind, Actor: "reconciliation", Data: data})
		if err != nil {
			return err
		}
		return transactionEvent(ctx, tx, out) // adopted money has its event and document like any other
	})
	return out, created, err
}

// MarkReconciled records that a run found the transactions at the processor, and lifts their
// flags.
func (s *Store) MarkReconciled(ctx context.Context, refs []string, at time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `UPDATE transactions SET reconciled_at = $2, reconcile_flag = '', reconcile_flagged_at = NULL
		WHERE id = ANY($1)`, refs, at)
	return err
}

// FlagTransactions marks transactions the processor does not know; a flag already set keeps
// the time it was first raised.
func (s *Store) FlagTransactions(ctx context.Context, refs []string, flag string) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `UPDATE transactions SET reconcile_flag = $2,
		reconcile_flagged_at = coalesce(reconcile_flagged_at, now()) WHERE id = ANY($1)`, refs, flag)
	return err
}

// ReconcileCandidate is a ledger row a run has not found at the processor yet, with the
// processor's id of the payment it belongs to (its own for a payment, its source's for a refund).
type ReconcileCandidate struct {
	Txn        domain.Transaction
	PaymentRef string
}

// ReconcileCandidates lists, by id after afterID, the transactions of processor created since
// that moved money there (payments succeeded or pending, refunds succeeded; a lost dispute's
// refund is the processor's dispute, not a refund) and that no run found at the processor at
// or after runAt. account "" is the processor's own account, whose rows are those of merchants
// without their own Stripe account (every row for the sandbox); a merchant's reference is that
// merchant's own account, holding its rows alone.
func (s *Store) ReconcileCandidates(ctx context.Context, processor, account string, since, runAt time.Time, afterID string, limit int) ([]ReconcileCandidate, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+txnCols+`, coalesce(src.processor_ref, t.processor_ref)
		FROM transactions t LEFT JOIN transactions src ON src.id = t.source_id
		WHERE t.processor = $1 AND t.processor_ref <> '' AND t.created_at >= $2
			AND CASE WHEN $6 = '' THEN $1 = 'sandbox' OR NOT EXISTS (SELECT 1 FROM merchant_stripe ms WHERE ms.merchant_id = t.merchant_id)
				ELSE t.merchant_id = $6 END
			AND (t.reconciled_at IS NULL OR t.reconciled_at < $3)
			AND ((t.kind = 'payment' AND t.status IN ('succeeded', 'pending'))
				OR (t.kind = 'refund' AND t.status = 'succeeded' AND NOT starts_with(t.processor_ref, 'dp_')))
			AND t.id > $4
		ORDER BY t.id LIMIT $5`, processor, since, runAt, afterID, limit, account)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReconcileCandidate, error) {
		var c ReconcileCandidate
		var err error
		c.Txn, err = scanTxnWith(r, &c.PaymentRef)
		return c, err
	})
}
