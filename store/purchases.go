package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const purchaseCols = `id, merchant_id, customer_id, product_id, plan_id, status, plan_name, plan_type, amount, currency,
	billing_cycle, cancelled_at, cancel_reason, started_at, current_period_start, current_period_end, next_billing_at,
	trial_end, ended_at, period, paid_total, refunded_total, carried_amount, sandbox, seq, created_at, updated_at, scheduled_change,
	disputed, payment_processing, clock_offset_ms, past_due_reason, quantity, pause`

func scanPurchase(row pgx.Row) (domain.Purchase, error) {
	var p domain.Purchase
	var status, typ, cycle string
	var clockMS int64
	err := row.Scan(&p.Ref, &p.MerchantRef, &p.CustomerRef, &p.ProductRef, &p.PlanRef, &status, &p.PlanName, &typ,
		&p.Amount, &p.Currency, &cycle, &p.CancelledAt, &p.CancelReason, &p.StartedAt, &p.CurrentPeriodStart,
		&p.CurrentPeriodEnd, &p.NextBillingAt, &p.TrialEnd, &p.EndedAt, &p.Period, &p.PaidTotal, &p.RefundedTotal,
		&p.CarriedAmount, &p.Sandbox, &p.Seq, &p.CreatedAt, &p.UpdatedAt, &p.ScheduledChange, &p.Disputed, &p.PaymentProcessing, &clockMS,
		&p.PastDueReason, &p.Quantity, &p.Pause)
	p.Status, p.PlanType, p.BillingCycle = domain.PurchaseStatus(status), domain.PlanType(typ), domain.BillingCycle(cycle)
	p.ClockOffset = time.Duration(clockMS) * time.Millisecond
	return p, err
}

// UpsertPurchase writes the projection of a purchase workflow. The write applies only when it
// is newer than the stored one — by StepAt (the workflow time of the step), then Seq — so a late
// or retried activity never moves a purchase backwards, and the steps of a run that an operator
// reset (numbered again from the reset point, but later in workflow time) still apply; applied
// reports whether it did. A zero StepAt orders before every real one.
func (s *Store) UpsertPurchase(ctx context.Context, p domain.Purchase) (applied bool, err error) {
	return upsertPurchase(ctx, s.Pool, p)
}

// ProjectPurchase is UpsertPurchase and InsertAudit in one transaction: the projection of a
// workflow step and its audit row are written together or not at all, and with them the event
// the step reports to the merchant (domain.PurchaseEventType), once however often it is retried.
func (s *Store) ProjectPurchase(ctx context.Context, p domain.Purchase, audit *AuditEntry) (applied bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if applied, err = upsertPurchase(ctx, tx, p); err != nil || audit == nil {
			return err
		}
		inserted, err := insertAudit(ctx, tx, *audit)
		typ := domain.PurchaseEventType(audit.Action, domain.PurchaseStatus(audit.FromStatus), domain.PurchaseStatus(audit.ToStatus))
		if err != nil || !inserted || typ == "" {
			return err
		}
		after, err := scanPurchase(tx.QueryRow(ctx, `SELECT `+purchaseCols+` FROM purchases WHERE id = $1`, p.Ref))
		if err != nil {
			return fmt.Errorf("read purchase %s: %w", p.Ref, err)
		}
		return insertEvent(ctx, tx, purchaseEvent(typ, after,
			fmt.Sprintf("purchase/%s/%d/%d/%s", p.Ref, p.Seq, p.StepAt.UnixNano(), typ)))
	})
	return applied, err
}

func upsertPurchase(ctx context.Context, db DBTX, p domain.Purchase) (applied bool, err error) {
	tag, err := db.Exec(ctx, `INSERT INTO purchases (id, merchant_id, customer_id, product_id, plan_id, status,
		plan_name, plan_type, amount, currency, billing_cycle, cancelled_at, cancel_reason, started_at,
		current_period_start, current_period_end, next_billing_at, trial_end, ended_at, period, paid_total,
		refunded_total, carried_amount, sandbox, seq, step_at, scheduled_change, disputed, payment_processing,
		past_due_reason, quantity, pause)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,
			coalesce($26, '-infinity'::timestamptz), $27, $28, $29, $30, $31, $32)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, plan_id = EXCLUDED.plan_id,
			plan_name = EXCLUDED.plan_name, plan_type = EXCLUDED.plan_type, amount = EXCLUDED.amount,
			currency = EXCLUDED.currency, billing_cycle = EXCLUDED.billing_cycle, cancelled_at = EXCLUDED.cancelled_at,
			cancel_reason = EXCLUDED.cancel_reason, started_at = EXCLUDED.started_at,
			current_period_start = EXCLUDED.current_period_start, current_period_end = EXCLUDED.current_period_end,
			next_billing_at = EXCLUDED.next_billing_at, trial_end = EXCLUDED.trial_end, ended_at = EXCLUDED.ended_at,
			period = EXCLUDED.period, paid_total = EXCLUDED.paid_total, refunded_total = EXCLUDED.refunded_total,
			carried_amount = EXCLUDED.carried_amount,
			sandbox = EXCLUDED.sandbox, seq = EXCLUDED.seq, step_at = EXCLUDED.step_at,
			scheduled_change = EXCLUDED.scheduled_change, disputed = EXCLUDED.disputed,
			payment_processing = EXCLUDED.payment_processing, past_due_reason = EXCLUDED.past_due_reason,
			quantity = EXCLUDED.quantity, pause = EXCLUDED.pause, updated_at = now()
		WHERE purchases.merchant_id = EXCLUDED.merchant_id
			AND (purchases.step_at, purchases.seq) < (EXCLUDED.step_at, EXCLUDED.seq)`,
		p.Ref, p.MerchantRef, p.CustomerRef, p.ProductRef, p.PlanRef, string(p.Status), p.PlanName, string(p.PlanType),
		p.Amount, p.Currency, string(p.BillingCycle), p.CancelledAt, p.CancelReason, p.StartedAt, p.CurrentPeriodStart,
		p.CurrentPeriodEnd, p.NextBillingAt, p.TrialEnd, p.EndedAt, p.Period, p.PaidTotal, p.RefundedTotal, p.CarriedAmount, p.Sandbox,
		p.Seq, stepAt(p.StepAt), p.ScheduledChange, p.Disputed, p.PaymentProcessing, p.PastDueReason, domain.Quantity(p.Quantity), p.Pause)
	if err != nil {
		return false, fmt.Errorf("upsert purchase %s: %w", p.Ref, err)
	}
	return tag.RowsAffected() == 1, nil
}

// GetPurchase finds a purchase of merchant. Another merchant's purchase is not found.
func (s *Store) GetPurchase(ctx context.Context, merchant, ref string) (domain.Purchase, error) {
	p, err := scanPurchase(s.Pool.QueryRow(ctx, `SELECT `+purchaseCols+` FROM purchases WHERE merchant_id = $1 AND id = $2`,
		merchant, ref))
	return p, notFoundIfNoRows(err, "purchase", ref)
}

// PurchaseFilter narrows ListPurchases. Empty fields do not filter.
type PurchaseFilter struct {
	// Status is a lifecycle state, or pending_cancellation (active with cancelledAt set).
	// "active" includes purchases pending cancellation: they are paid and have access.
	Status      domain.PurchaseStatus
	CustomerRef string
	ProductRef  string
	PlanRef     string
}

// ListPurchases returns one page of the merchant's purchases, newest first, and the total.
func (s *Store) ListPurchases(ctx context.Context, merchant string, f PurchaseFilter, p Page) ([]domain.Purchase, int, error) {
	q := newWhere("merchant_id = $1", merchant)
	switch f.Status {
	case "":
	case domain.PurchasePendingCancellation:
		q.add("status = $%d AND cancelled_at IS NOT NULL", string(domain.PurchaseActive))
	default:
		q.add("status = $%d", string(f.Status))
	}
	if f.CustomerRef != "" {
		q.add("customer_id = $%d", f.CustomerRef)
	}
	if f.ProductRef != "" {
		q.add("product_id = $%d", f.ProductRef)
	}
	if f.PlanRef != "" {
		q.add("plan_id = $%d", f.PlanRef)
	}
	return listPage(ctx, s.Pool, "purchases", purchaseCols, q, "created_at DESC, id DESC", p, scanPurchase)
}

// LivePurchase returns the customer's newest purchase of product that has not ended (pending,
// trialing, active, past due, suspended or paused), or RESOURCE_NOT_FOUND.
func (s *Store) LivePurchase(ctx context.Context, merchant, customerRef, productRef string) (domain.Purchase, error) {
	p, err := scanPurchase(s.Pool.QueryRow(ctx, `SELECT `+purchaseCols+` FROM purchases
		WHERE customer_id = $2 AND product_id = $3 AND merchant_id = $1
		AND status IN `+LiveStatuses+`
		ORDER BY created_at DESC, id DESC LIMIT 1`, merchant, customerRef, productRef))
	return p, notFoundIfNoRows(err, "purchase", customerRef+"/"+productRef)
}

// HadTrial reports whether the customer ever had a trial of the product (any purchase, any
// state): a trial is granted once per customer and product.
func (s *Store) HadTrial(ctx context.Context, merchant, customerRef, productRef string) (bool, error) {
	var had bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM purchases WHERE merchant_id = $1 AND customer_id = $2
		AND product_id = $3 AND trial_end IS NOT NULL)`, merchant, customerRef, productRef).Scan(&had)
	if err != nil {
		return false, fmt.Errorf("read trials of %s: %w", customerRef, err)
	}
	return had, nil
}

// CustomerPaymentTarget returns what a charge of the customer needs: the default payment method
// (empty when none is on file) and the processor's customer id.
func (s *Store) CustomerPaymentTarget(ctx context.Context, merchant, customerRef string) (paymentMethod, processorCustomer string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT payment_method, processor_customer_id FROM customers WHERE merchant_id = $1 AND id = $2`,
		merchant, customerRef).Scan(&paymentMethod, &processorCustomer)
	return paymentMethod, processorCustomer, notFoundIfNoRows(err, "customer", customerRef)
}

// stepAt is a time for Postgres: nil when zero (a step time is then stored as -infinity, a
// transaction's occurred_at as now).
func stepAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ClaimPurchase reserves the one live purchase a customer may hold of a product (the index
// purchases_one_live): it inserts p as a pending projection row with sequence 0, which the
// workflow's first write replaces, unless the customer already has a live purchase of p's
// product. It answers the purchase that holds the claim: p itself (also when p was claimed
// before, by a retried call), or the live purchase that was there first.
func (s *Store) ClaimPurchase(ctx context.Context, p domain.Purchase) (domain.Purchase, error) {
	for range 5 {
		tag, err := s.Pool.Exec(ctx, `INSERT INTO purchases (id, merchant_id, customer_id, product_id, plan_id, status,
			plan_name, plan_type, amount, currency, billing_cycle, sandbox, seq, quantity)
			VALUES ($1,$2,$3,$4,$5,'pending',$6,$7,$8,$9,$10,$11,0,$12) ON CONFLICT DO NOTHING`,
			p.Ref, p.MerchantRef, p.CustomerRef, p.ProductRef, p.PlanRef, p.PlanName, string(p.PlanType), p.Amount,
			p.Currency, string(p.BillingCycle), p.Sandbox, domain.Quantity(p.Quantity))
		if err != nil {
			return domain.Purchase{}, fmt.Errorf("claim purchase %s: %w", p.Ref, err)
		}
		if tag.RowsAffected() == 1 {
			return s.GetPurchase(ctx, p.MerchantRef, p.Ref)
		}
		if own, err := s.GetPurchase(ctx, p.MerchantRef, p.Ref); err == nil {
			return own, nil
		}
		live, err := s.LivePurchase(ctx, p.MerchantRef, p.CustomerRef, p.ProductRef)
		if domain.ErrorCode(err) != domain.CodeNotFound {
			return live, err
		}
		// the live purchase ended between the insert and the read: claim again
	}
	return domain.Purchase{}, domain.Errorf(domain.CodeConflict, "productRef",
		"customer %s's purchases of product %s are changing; try again", p.CustomerRef, p.ProductRef)
}

// LiveStatuses are the statuses of a purchase that has not ended, in SQL: the customer's one
// live purchase of a product (the index purchases_one_live has the same predicate).
const LiveStatuses = `('pending','trialing','active','past_due','suspended','paused')`
