package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/store"
)

// LimitState is everything check_limits needs, read in one round trip: the customer, the
// purchase that governs the product (or none), the plan (the purchase's, else the product's
// default), the meter, the period and the units counted in it.
type LimitState struct {
	CustomerRef string
	ProductRef  string
	// Purchase is the customer's newest live purchase of the product; empty when none.
	PurchaseRef    string
	PurchaseStatus domain.PurchaseStatus
	// PauseBehavior is the pause of a paused purchase (keep_access grants access).
	PauseBehavior domain.PauseBehavior
	// Plan is the purchase's plan, or the product's default plan when there is no purchase;
	// PlanRef is empty when the product has neither.
	PlanRef string
	// DefaultPlanRef is the product's default plan: what a blocked customer is sent to buy.
	DefaultPlanRef string
	PlanType       domain.PlanType
	PlanMeter      string
	FreeUnits      int64
	Limit          *int64
	// Seats multiplies the plan's limit for the purchase (its quantity on a plan with
	// limitsPerSeat, else 1).
	Seats       int64
	Meter       string
	PeriodStart time.Time
	PeriodEnd   *time.Time
	Used        int64
}

// Verdict is the answer of a limit check.
type Verdict struct {
	WithinLimits bool
	// Limit is the most units the period admits; nil means unlimited.
	Limit     *int64
	Remaining *int64
	// Reason says why a check is blocked: no_purchase, limit_reached, purchase_<status>, no_plan.
	Reason string
	// CheckoutPlan is the plan a blocked customer should buy: the product's default plan, else
	// the plan of the customer's purchase.
	CheckoutPlan string
}

const limitStateSQL = `
WITH c AS (
  SELECT coalesce(
    (SELECT cu.id FROM customers cu WHERE cu.id = $2 AND cu.merchant_id = $1 AND cu.deleted_at IS NULL),
    (SELECT cu.id FROM customers cu WHERE cu.merchant_id = $1 AND cu.external_ref = $2 AND cu.deleted_at IS NULL)) AS id
), pu AS (
  SELECT p.id, p.status, p.plan_id, p.current_period_start, p.current_period_end, p.quantity, p.pause FROM purchases p, c
  WHERE p.customer_id = c.id AND p.product_id = $3 AND p.merchant_id = $1
  AND p.status IN ` + store.LiveStatuses + `
  ORDER BY p.created_at DESC, p.id DESC LIMIT 1
), pl AS (
  SELECT pl.id, pl.type, pl.free_units, pl.usage_limit, pl.meter_name, pl.limits_per_seat FROM plans pl
  WHERE pl.merchant_id = $1 AND pl.id = coalesce((SELECT plan_id FROM pu),
    (SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = $3 AND d.is_default AND d.deleted_at IS NULL))
), k AS (
  SELECT CASE WHEN $4 <> '' THEN $4
              WHEN $6 <> '' AND ($6 = ANY($7::text[]) OR $6 LIKE 'tool:_%'
                OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = $6)) THEN $6
              ELSE coalesce(nullif((SELECT meter_name FROM pl), ''), $5) END AS meter,
         coalesce((SELECT current_period_start FROM pu), date_trunc('month', now(), 'UTC')) AS period_start
)
SELECT coalesce(c.id, ''),
  EXISTS (SELECT 1 FROM products p WHERE p.merchant_id = $1 AND p.id = $3 AND p.deleted_at IS NULL),
  coalesce(pu.id, ''), coalesce(pu.status, ''), coalesce(pu.pause->>'behavior', ''), pu.current_period_end,
  coalesce(pl.id, ''), coalesce(pl.type, ''), coalesce(pl.free_units, 0), pl.usage_limit, coalesce(pl.meter_name, ''),
  CASE WHEN pl.limits_per_seat AND pu.id IS NOT NULL THEN pu.quantity ELSE 1 END,
  k.meter, k.period_start,
  ($4 = '' OR $4 = ANY($7::text[]) OR $4 LIKE 'tool:_%' OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = $4)),
  coalesce((SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = $3 AND d.is_default AND d.deleted_at IS NULL), ''),
  coalesce((SELECT uc.units FROM usage_counters uc WHERE uc.merchant_id = $1 AND uc.customer_id = c.id
    AND uc.product_id = $3 AND uc.meter_name = k.meter AND uc.period_start = k.period_start), 0)
FROM c CROSS JOIN k LEFT JOIN pu ON true LEFT JOIN pl ON true`

// readLimitFull is LimitState in one statement (limitStateSQL), which resolves everything in SQL
// and words what is wrong with the check.
func (s *Engine) readLimitFull(ctx context.Context, merchant, customerRef, productRef, meter, actionType string) (LimitState, error) {
	st := LimitState{ProductRef: productRef}
	var productOK, meterOK bool
	var status, typ, pause string
	err := s.pool.QueryRow(ctx, limitStateSQL, merchant, customerRef, productRef, meter, store.DefaultPlanMeter, actionType,
		domain.DefaultMeters).Scan(
		&st.CustomerRef, &productOK, &st.PurchaseRef, &status, &pause, &st.PeriodEnd, &st.PlanRef, &typ, &st.FreeUnits,
		&st.Limit, &st.PlanMeter, &st.Seats, &st.Meter, &st.PeriodStart, &meterOK, &st.DefaultPlanRef, &st.Used)
	if err != nil {
		return st, fmt.Errorf("limit state: %w", err)
	}
	st.PurchaseStatus, st.PlanType, st.PauseBehavior = domain.PurchaseStatus(status), domain.PlanType(typ), domain.PauseBehavior(pause)
	if st.PlanMeter == "" {
		st.PlanMeter = store.DefaultPlanMeter // what events without a meter count on
	}
	switch {
	case st.CustomerRef == "":
		return st, &domain.Error{Code: domain.CodeNotFound, Field: "customerRef", Message: fmt.Sprintf("customer %q not found", customerRef)}
	case !productOK:
		return st, &domain.Error{Code: domain.CodeNotFound, Field: "productRef", Message: fmt.Sprintf("product %q not found", productRef)}
	case !meterOK:
		return st, &domain.Error{Code: domain.CodeInvalidField, Field: "meterName", Message: fmt.Sprintf("meter %q does not exist", meter)}
	}
	if st.PurchaseRef == "" {
		end := st.PeriodStart.UTC().AddDate(0, 1, 0)
		st.PeriodEnd = &end
	}
	return st, nil
}

// HasAccess reports whether the purchase grants access (trialing, active, past due in grace,
// paused with keep_access).
func (st LimitState) HasAccess() bool {
	return st.PurchaseRef != "" && domain.Access(st.PurchaseStatus, &domain.Pause{Behavior: st.PauseBehavior})
}

// EffectiveLimit is the most units the period admits on st.Meter; nil means unlimited.
//
// With a purchase that grants access: the plan's limit when set; usage-based and hybrid plans
// are otherwise unlimited (units beyond freeUnits are billed at renewal); other plans cap at
// their freeUnits when they have some. A plan limits only its own meter.
// Without such a purchase the product's default plan gives a free allowance of its freeUnits
// (SolvaPay's free tier: "87 of 100 free requests"); a default plan of type free admits up to
// its limit, else its freeUnits, else without limit. Past the allowance the customer must buy.
func (st LimitState) EffectiveLimit() *int64 {
	if !st.HasAccess() {
		switch {
		case st.PlanRef == "":
			return int64p(int64(0))
		case st.PlanType == domain.PlanFree && st.Meter == st.PlanMeter && st.Limit != nil:
			return st.Limit
		case st.PlanType == domain.PlanFree && st.FreeUnits == 0:
			return nil
		default:
			return int64p(st.FreeUnits)
		}
	}
	if st.Meter != st.PlanMeter {
		return nil
	}
	switch {
	case st.Limit != nil:
		return st.perSeat(*st.Limit)
	case st.PlanType == domain.PlanUsageBased || st.PlanType == domain.PlanHybrid:
		return nil
	case st.FreeUnits > 0:
		return st.perSeat(st.FreeUnits)
	}
	return nil
}

// perSeat is a purchase's limit of n units per seat (plan limitsPerSeat); a product beyond an
// int64 is no limit at all.
func (st LimitState) perSeat(n int64) *int64 {
	total, err := money.Mul(n, domain.Quantity(st.Seats))
	if err != nil {
		return nil
	}
	return &total
}

// Evaluate decides whether units more may be used now.
func (st LimitState) Evaluate(units int64) Verdict {
	v := Verdict{Limit: st.EffectiveLimit()}
	if v.Limit != nil {
		v.Remaining = int64p(max(0, *v.Limit-st.Used))
	}
	v.WithinLimits = v.Limit == nil || st.Used+units <= *v.Limit
	switch {
	case v.WithinLimits:
	case st.PlanRef == "":
		v.Reason = "no_plan"
	case st.PurchaseRef != "" && !st.HasAccess():
		v.Reason = "purchase_" + string(st.PurchaseStatus)
	case !st.HasAccess() && st.FreeUnits == 0:
		v.Reason = "no_purchase"
	default:
		v.Reason = "limit_reached"
	}
	if !v.WithinLimits {
		v.CheckoutPlan = st.DefaultPlanRef
		if v.CheckoutPlan == "" {
			v.CheckoutPlan = st.PlanRef
		}
	}
	return v
}

func int64p(v int64) *int64 { return &v }

// consumeSQL records one event only when the counter admits its units, in one statement: the
// event insert claims the idempotency key (a repeat answers with the original and consumes
// nothing), the counter upsert is conditional (its row lock serialises racing consumers, and
// the condition is re-checked on the newest row), and when the counter refuses, the final
// select raises TGL01, which rolls the inserted event back. The events of the marks the counter
// crosses are written beside ($13 the mode).
var consumeSQL = withMarks(`
WITH ins AS (
  INSERT INTO usage_events (id, merchant_id, customer_id, product_id, meter_name, action_type, units, outcome,
                            idempotency_key, occurred_at, metadata)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'success', $8, $9, nullif($10, '')::jsonb)
  ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
  RETURNING id
), counted AS (
  INSERT INTO usage_counters AS uc (merchant_id, customer_id, product_id, meter_name, period_start, units)
  SELECT $2, $3, $4, $5, $11, $7 FROM ins WHERE $12::bigint IS NULL OR $7 <= $12::bigint
  ON CONFLICT (merchant_id, customer_id, product_id, meter_name, period_start)
  DO UPDATE SET units = uc.units + EXCLUDED.units, updated_at = now()
  WHERE $12::bigint IS NULL OR uc.units + EXCLUDED.units <= $12::bigint
  RETURNING units`, 1,
	`(SELECT $3::text AS customer_id, $4::text AS product_id, $5::text AS meter_name,
    $11::timestamptz AS period_start, units AS used, $7::bigint AS units, $12::bigint AS lim FROM counted)`, "$2", "$13", `
SELECT (SELECT id FROM ins),
  (SELECT units FROM counted),
  CASE WHEN EXISTS (SELECT 1 FROM ins) AND NOT EXISTS (SELECT 1 FROM counted) THEN tollgate_usage_limit_exceeded() END,
  (SELECT o.id FROM usage_events o WHERE o.merchant_id = $2 AND o.idempotency_key = $8)`)

// ErrLimitExceeded is the refusal of a consume that would pass the limit.
var ErrLimitExceeded = domain.Errorf(domain.CodePaymentRequired, "units", "usage limit reached for this period")

// Consume checks and records one successful event atomically against st (read by
// LimitState just before): it never admits more than limit units in the period, however many
// clients race. A refused event is not stored. used is the counter after the event.
func (s *Engine) Consume(ctx context.Context, merchant string, st LimitState, e Event, limit *int64) (rec Recorded, used int64, err error) {
	rec = Recorded{CustomerRef: st.CustomerRef, ProductRef: st.ProductRef, Meter: st.Meter, Units: e.Units,
		Outcome: OutcomeSuccess, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, PeriodStart: st.PeriodStart}
	id := domain.NewTimedRef(domain.PrefixUsage, time.Now())
	var inserted, original *string
	var counter *int64
	var raised *bool
	err = retryConflicts(ctx, func() error {
		sql, args := consumeSQL.of(limit != nil && *limit > 0, id, merchant, st.CustomerRef, st.ProductRef, st.Meter, e.ActionType,
			e.Units, e.IdempotencyKey, e.OccurredAt, string(e.Metadata), st.PeriodStart, limit, domain.ModeFrom(ctx))
		return s.pool.QueryRow(ctx, sql, args...).
			Scan(&inserted, &counter, &raised, &original)
	})
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "TGL01" {
		return rec, st.Used, ErrLimitExceeded
	}
	if err != nil {
		return rec, 0, fmt.Errorf("consume usage: %w", err)
	}
	switch {
	case inserted != nil:
		rec.Ref = *inserted
		if counter != nil {
			used = *counter
		}
	case original != nil:
		rec.Ref, rec.Duplicate = *original, true
		used = st.Used
	default: // the original was committed after our snapshot
		rec.Duplicate = true
		used = st.Used
		err = s.pool.QueryRow(ctx, `SELECT id FROM usage_events WHERE merchant_id = $1 AND idempotency_key = $2`,
			merchant, e.IdempotencyKey).Scan(&rec.Ref)
	}
	return rec, used, err
}
