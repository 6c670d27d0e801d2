package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// txnCols reads a transaction with the succeeded refunds of it summed (for payments).
const txnCols = `t.id, t.merchant_id, t.kind, t.status, t.amount, t.currency, coalesce(t.purchase_id, ''),
	coalesce(t.customer_id, ''), coalesce(t.product_id, ''), coalesce(t.source_id, ''), t.period, t.reason,
	t.failure_code, t.failure_message, t.idempotency_key, t.processor, t.processor_ref,
	(SELECT coalesce(sum(r.amount), 0) FROM transactions r WHERE r.source_id = t.id AND r.status = 'succeeded'),
	t.created_at, t.occurred_at, t.period_start, t.period_end`

func scanTxn(row pgx.Row) (domain.Transaction, error) { return scanTxnWith(row) }

// scanTxnWith reads txnCols, then the extra columns selected after them into extra.
func scanTxnWith(row pgx.Row, extra ...any) (domain.Transaction, error) {
	var t domain.Transaction
	err := row.Scan(append([]any{&t.Ref, &t.MerchantRef, &t.Kind, &t.Status, &t.Amount, &t.Currency, &t.PurchaseRef,
		&t.CustomerRef, &t.ProductRef, &t.SourceRef, &t.Period, &t.Reason, &t.FailureCode, &t.FailureMessage,
		&t.IdempotencyKey, &t.Processor, &t.ProcessorRef, &t.RefundedAmount, &t.CreatedAt, &t.OccurredAt, &t.PeriodStart,
		&t.PeriodEnd}, extra...)...)
	return t, err
}

// InsertTransaction records a payment or refund. Its IdempotencyKey is unique per merchant: a
// second insert with the same key returns the first row unchanged and created=false, so a
// retried activity or a replayed webhook records money once. Ref is assigned when empty, and
// OccurredAt is now when zero. A refund above what is left of its payment is refused
// (INVALID_FIELD amount, the refunds_within_payment trigger). A new payment or refund that
// succeeded or failed writes its event (payment.succeeded, …) in the same transaction.
func (s *Store) InsertTransaction(ctx context.Context, t domain.Transaction) (out domain.Transaction, created bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if out, created, err = insertTransaction(ctx, tx, t); err != nil || !created {
			return err
		}
		return transactionEvent(ctx, tx, out)
	})
	return out, created, err
}

func insertTransaction(ctx context.Context, db DBTX, t domain.Transaction) (out domain.Transaction, created bool, err error) {
	if t.IdempotencyKey == "" {
		return t, false, domain.Errorf(domain.CodeMissingField, "idempotencyKey", "a transaction needs an idempotency key")
	}
	if t.Ref == "" {
		t.Ref = domain.NewRef(domain.PrefixTransaction)
	}
	var id string
	err = db.QueryRow(ctx, `INSERT INTO transactions (id, merchant_id, kind, status, amount, currency, purchase_id,
		customer_id, product_id, source_id, period, reason, failure_code, failure_message, idempotency_key, processor,
		processor_ref, occurred_at, period_start, period_end) VALUES ($1,$2,$3,$4,$5,$6,nullif($7,''),nullif($8,''),nullif($9,''),
		nullif($10,''),$11,$12,$13,$14,$15,$16,$17,coalesce($18, now()),$19,$20)
		ON CONFLICT (merchant_id, idempotency_key) DO NOTHING RETURNING id`,
		t.Ref, t.MerchantRef, t.Kind, t.Status, t.Amount, t.Currency, t.PurchaseRef, t.CustomerRef, t.ProductRef,
		t.SourceRef, t.Period, t.Reason, t.FailureCode, t.FailureMessage, t.IdempotencyKey, t.Processor, t.ProcessorRef,
		stepAt(t.OccurredAt), t.PeriodStart, t.PeriodEnd).Scan(&id)
	created = err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return t, false, fmt.Errorf("insert transaction: %w", refundLimit(err))
	}
	if created {
		if err := recordChargeTax(ctx, db, t); err != nil { // before its invoice, which is split by it
			return t, false, err
		}
	}
	out, err = transactionByKey(ctx, db, t.MerchantRef, t.IdempotencyKey)
	return out, created, err
}

// TransactionByKey finds the transaction recorded under an idempotency key.
func (s *Store) TransactionByKey(ctx context.Context, merchant, key string) (domain.Transaction, error) {
	return transactionByKey(ctx, s.Pool, merchant, key)
}

func transactionByKey(ctx context.Context, db DBTX, merchant, key string) (domain.Transaction, error) {
	t, err := scanTxn(db.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t
		WHERE t.merchant_id = $1 AND t.idempotency_key = $2`, merchant, key))
	return t, notFoundIfNoRows(err, "transaction", key)
}

// GetTransaction finds a transaction of merchant. Another merchant's transaction is not found.
func (s *Store) GetTransaction(ctx context.Context, merchant, ref string) (domain.Transaction, error) {
	t, err := scanTxn(s.Pool.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.id = $2`,
		merchant, ref))
	return t, notFoundIfNoRows(err, "transaction", ref)
}

// TransactionFilter narrows ListTransactions and TransactionStats. Zero fields do not filter;
// From is inclusive and To exclusive.
type TransactionFilter struct {
	From        time.Time
	To          time.Time
	Status      string // succeeded, failed, pending
	Kind        string // payment, refund
	PurchaseRef string
	CustomerRef string
	ProductRef  string
}

func (f TransactionFilter) where(merchant string) *where {
	q := newWhere("t.merchant_id = $1", merchant)
	if !f.From.IsZero() {
		q.add("t.created_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		q.add("t.created_at < $%d", f.To)
	}
	if f.Status != "" {
		q.add("t.status = $%d", f.Status)
	}
	if f.Kind != "" {
		q.add("t.kind = $%d", f.Kind)
	}
	if f.PurchaseRef != "" {
		q.add("t.purchase_id = $%d", f.PurchaseRef)
	}
	if f.CustomerRef != "" {
		q.add("t.customer_id = $%d", f.CustomerRef)
	}
	if f.ProductRef != "" {
		q.add("t.product_id = $%d", f.ProductRef)
	}
	return q
}

// ListTransactions returns one page of the merchant's transactions, newest first, and the total.
func (s *Store) ListTransactions(ctx context.Context, merchant string, f TransactionFilter, p Page) ([]domain.Transaction, int, error) {
	return listPage(ctx, s.Pool, "transactions t", txnCols, f.where(merchant), "t.created_at DESC, t.id DESC", p, scanTxn)
}

// PurchaseTransactions returns every transaction of a purchase, oldest first.
func (s *Store) PurchaseTransactions(ctx context.Context, merchant, purchaseRef string) ([]domain.Transaction, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.purchase_id = $2
		ORDER BY t.created_at, t.id`, merchant, purchaseRef)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Transaction, error) { return scanTxn(r) })
}

// CurrencyTotals is money per currency: amounts in different currencies never add up.
type CurrencyTotals struct {
	Currency string `json:"currency"`
	Revenue  int64  `json:"revenue"`  // succeeded payments
	Refunded int64  `json:"refunded"` // succeeded refunds
	Net      int64  `json:"net"`      // revenue - refunded
}

// TransactionStats summarises the transactions matching a filter.
type TransactionStats struct {
	Total      int              `json:"total"`
	Successful int              `json:"successful"` // succeeded payments
	Failed     int              `json:"failed"`     // failed payments
	Refunded   int              `json:"refunded"`   // succeeded refunds
	Pending    int              `json:"pending"`
	Currencies []CurrencyTotals `json:"currencies"`
}

// TransactionStats counts and sums the merchant's transactions matching f (Status and Kind ignored).
func (s *Store) TransactionStats(ctx context.Context, merchant string, f TransactionFilter) (TransactionStats, error) {
	f.Status, f.Kind = "", ""
	q := f.where(merchant)
	var st TransactionStats
	err := s.Pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE t.kind = 'payment' AND t.status = 'succeeded'),
		count(*) FILTER (WHERE t.kind = 'payment' AND t.status = 'failed'),
		count(*) FILTER (WHERE t.kind = 'refund' AND t.status = 'succeeded'),
		count(*) FILTER (WHERE t.status = 'pending')
		FROM transactions t WHERE `+q.String(), q.args...).Scan(&st.Total, &st.Successful, &st.Failed, &st.Refunded, &st.Pending)
	if err != nil {
		return st, fmt.Errorf("transaction stats: %w", err)
	}
	st.Currencies, err = s.currencyTotals(ctx, q)
	return st, err
}

func (s *Store) currencyTotals(ctx context.Context, q *where) ([]CurrencyTotals, error) {
	rows, err := s.Pool.Query(ctx, `SELECT t.currency,
		coalesce(sum(t.amount) FILTER (WHERE t.kind = 'payment' AND t.status = 'succeeded'), 0),
		coalesce(sum(t.amount) FILTER (WHERE t.kind = 'refund' AND t.status = 'succeeded'), 0)
		FROM transactions t WHERE `+q.String()+` GROUP BY t.currency ORDER BY t.currency`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("currency totals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CurrencyTotals, error) {
		var c CurrencyTotals
		err := r.Scan(&c.Currency, &c.Revenue, &c.Refunded)
		c.Net = c.Revenue - c.Refunded
		return c, err
	})
	if out == nil {
		out = []CurrencyTotals{}
	}
	return out, err
}

// ProductBalance is what a product has earned, per currency.
type ProductBalance struct {
	ProductRef string           `json:"productRef"`
	Payments   int              `json:"payments"`
	Refunds    int              `json:"refunds"`
	Currencies []CurrencyTotals `json:"currencies"`
}

// ProductBalance sums the succeeded payments and refunds of one of the merchant's products.
func (s *Store) ProductBalance(ctx context.Context, merchant, productRef string) (ProductBalance, error) {
	if _, err := s.GetProduct(ctx, merchant, productRef); err != nil {
		return ProductBalance{}, err
	}
	b := ProductBalance{ProductRef: productRef}
	q := (TransactionFilter{ProductRef: productRef}).where(merchant)
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE t.kind = 'payment' AND t.status = 'succeeded'),
		count(*) FILTER (WHERE t.kind = 'refund' AND t.status = 'succeeded') FROM transactions t WHERE `+q.String(),
		q.args...).Scan(&b.Payments, &b.Refunds)
	if err != nil {
		return b, fmt.Errorf("product balance: %w", err)
	}
	b.Currencies, err = s.currencyTotals(ctx, q)
	return b, err
}
