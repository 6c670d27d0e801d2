package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/metrics"
	"github.com/tollgate-billing/tollgate/store"
)

// Usage events go straight to Postgres (never one workflow per event): the event row and the
// period counter change in one statement, so they commit together.
//
// Which meter an event counts on (the mapping rule, documented in the API):
//  1. an explicit meterName: a default meter, a tool:{toolName} meter or one of the merchant's
//     custom meters (anything else is refused);
//  2. otherwise the actionType, when it names such a meter ("tokens", "tool:search", a custom one);
//  3. otherwise the meter of the plan that governs the customer's use of the product (the live
//     purchase's plan, else the product's default plan);
//  4. otherwise store.DefaultPlanMeter ("api_requests").
// Only events with outcome "success" count toward the counter; the others are stored only.
//
// Which period a counter belongs to: the live purchase's current period, whatever the event's
// timestamp (a late event, or one stamped before a sandbox test clock that runs ahead, counts in
// the period it is recorded in); without a live purchase the calendar month (UTC) of the event's
// timestamp. The renewal bills what its period's counters hold when it runs and marks it billed
// (BillPeriod), so units recorded while it runs count with the next bill.

// OutcomeSuccess is the outcome that counts toward limits and billing.
const OutcomeSuccess = "success"

// MaxBulkEvents caps one bulk call.
const MaxBulkEvents = 1000

// Event is one event to record, as the API validated it.
type Event struct {
	CustomerRef    string // cus_ reference or the merchant's externalRef
	ProductRef     string // optional
	Meter          string // explicit meter; empty applies the mapping rule
	ActionType     string
	Units          int64
	Outcome        string
	IdempotencyKey string
	OccurredAt     time.Time
	Metadata       []byte // a JSON object, or nil
}

// Recorded is the answer for one event: its reference (the original one for a repeated
// idempotency key) and where it was counted.
type Recorded struct {
	Ref            string    `json:"reference"`
	Duplicate      bool      `json:"duplicate"`
	CustomerRef    string    `json:"customerRef"`
	ProductRef     string    `json:"productRef,omitempty"`
	Meter          string    `json:"meterName"`
	Units          int64     `json:"units"`
	Outcome        string    `json:"outcome"`
	IdempotencyKey string    `json:"idempotencyKey"`
	OccurredAt     time.Time `json:"timestamp"`
	PeriodStart    time.Time `json:"periodStart"`
}

// EventError says which event of a batch was refused, so the API can name it.
type EventError struct {
	Index int
	Err   *domain.Error
}

func (e *EventError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }
func (e *EventError) Unwrap() error { return e.Err }

// refusalOf is why event i of a batch cannot be recorded, from what the resolve step found
// (its customer, whether its product and meter exist), or nil.
func refusalOf(i int, e Event, customer string, productOK, meterOK bool) error {
	switch {
	case customer == "":
		return &EventError{i, &domain.Error{Code: domain.CodeNotFound, Field: "customerRef",
			Message: fmt.Sprintf("customer %q not found", e.CustomerRef)}}
	case !productOK:
		return &EventError{i, &domain.Error{Code: domain.CodeNotFound, Field: "productRef",
			Message: fmt.Sprintf("product %q not found", e.ProductRef)}}
	case !meterOK:
		return &EventError{i, &domain.Error{Code: domain.CodeInvalidField, Field: "meterName",
			Message: fmt.Sprintf("meter %q does not exist: use a default meter (%v), tool:{toolName}, or create it with POST /v1/meters", e.Meter, domain.DefaultMeters)}}
	}
	return nil
}

// recordOneSQL records one event in one statement, hence one transaction: resolve the customer
// (cus_ or externalRef), its live purchase and the plan's meter, apply the meter rule, insert the
// event (a taken idempotency key is skipped), add successful units to the counter, and answer
// the resolution with whether it was inserted or the original reference, and write the events of
// the marks it crosses ($14 the limit of customer $15's use of meter $16, $17 the mode). It is
// the full path of a single event; fast.go is the usual one.
var recordOneSQL = withMarks(`
WITH r AS MATERIALIZED (
  SELECT `+resolvePair("$2::text", "$3::text", "$13")+`
  FROM (SELECT 1) one
  `+resolvePairJoins("$2::text", "$3::text")+`
), e AS MATERIALIZED (
  SELECT r.customer_id, r.product_ok,
    `+meterRule("$4::text", "$5::text", "r.plan_meter", "$10::timestamptz", "r.purchase_start")+`
  FROM r
), ins AS (
  INSERT INTO usage_events (id, merchant_id, customer_id, product_id, meter_name, action_type, units, outcome,
                            idempotency_key, occurred_at, metadata)
  SELECT $7, $1, e.customer_id, $3, e.meter_name, $5, $6, $8, $9, $10, nullif($11, '')::jsonb
  FROM e WHERE e.customer_id IS NOT NULL AND e.product_ok AND e.meter_ok
  ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
  RETURNING id
), counted AS (
  INSERT INTO usage_counters AS uc (merchant_id, customer_id, product_id, meter_name, period_start, units)
  SELECT $1, e.customer_id, $3, e.meter_name, e.period_start, $6 FROM e, ins WHERE $8 = 'success'
  ON CONFLICT (merchant_id, customer_id, product_id, meter_name, period_start)
  DO UPDATE SET units = uc.units + EXCLUDED.units, updated_at = now()
  RETURNING units AS used`, 4,
	`(SELECT e.customer_id, $3::text AS product_id, e.meter_name, e.period_start, c.used, $6::bigint AS units,
    $14::bigint AS lim FROM e, counted c WHERE e.customer_id = $15::text AND e.meter_name = $16::text)`, "$1", "$17", `
SELECT coalesce(e.customer_id, ''), e.product_ok, e.meter_ok, e.meter_name, e.period_start,
       EXISTS (SELECT 1 FROM ins),
       CASE WHEN NOT EXISTS (SELECT 1 FROM ins) THEN (SELECT o.id FROM usage_events o WHERE o.merchant_id = $1
                                                      AND o.idempotency_key = $9) END
FROM e`)

// resolvePair selects, for a customer reference and a product, the customer's id (by cus_ or
// externalRef; NULL when unknown), whether the product is the merchant's, the live purchase's
// period start and the meter of the governing plan (defaultMeter when it names none). It reads
// the joins of resolvePairJoins; $1 is the merchant.
func resolvePair(customer, product, defaultMeter string) string {
	return fmt.Sprintf(`c.id AS customer_id,
    (%[2]s = '' OR EXISTS (SELECT 1 FROM products p WHERE p.merchant_id = $1 AND p.id = %[2]s
                           AND p.deleted_at IS NULL)) AS product_ok,
    pu.current_period_start AS purchase_start,
    coalesce(nullif((SELECT pl.meter_name FROM plans pl WHERE pl.id = coalesce(pu.plan_id,
        (SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = %[2]s AND d.is_default
         AND d.deleted_at IS NULL))), ''), %[3]s) AS plan_meter`, customer, product, defaultMeter)
}

func resolvePairJoins(customer, product string) string {
	return fmt.Sprintf(`CROSS JOIN LATERAL (SELECT coalesce(
      (SELECT cu.id FROM customers cu WHERE cu.id = %[1]s AND cu.merchant_id = $1 AND cu.deleted_at IS NULL),
      (SELECT cu.id FROM customers cu WHERE cu.merchant_id = $1 AND cu.external_ref = %[1]s
       AND cu.deleted_at IS NULL)) AS id) c
  LEFT JOIN LATERAL (SELECT p.plan_id, p.current_period_start FROM purchases p
      WHERE p.customer_id = c.id AND p.product_id = %[2]s AND p.merchant_id = $1
      AND p.status IN `+store.LiveStatuses+`
      ORDER BY p.created_at DESC, p.id DESC LIMIT 1) pu ON true`, customer, product)
}

// meterRule is the mapping rule in SQL (meter_ok, meter_name) and the counter's period
// (period_start); $1 is the merchant and $12 the default meters.
func meterRule(meter, action, planMeter, occurredAt, purchaseStart string) string {
	return fmt.Sprintf(`(%[1]s = '' OR %[1]s = ANY($12::text[]) OR %[1]s LIKE 'tool:_%%'
      OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = %[1]s)) AS meter_ok,
    CASE WHEN %[1]s <> '' THEN %[1]s
         WHEN %[2]s = ANY($12::text[]) OR %[2]s LIKE 'tool:_%%'
           OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = %[2]s) THEN %[2]s
         ELSE %[3]s END AS meter_name,
    %[6]s AS period_start`, meter, action, planMeter, occurredAt, purchaseStart, periodRule(occurredAt, purchaseStart))
}

// periodRule is the counter period of an event in SQL (pairFacts.periodOf in Go).
func periodRule(occurredAt, purchaseStart string) string {
	return fmt.Sprintf(`coalesce(%[2]s, date_trunc('month', %[1]s, 'UTC'))`, occurredAt, purchaseStart)
}

// Record records one event: stored and counted, or, for a repeated idempotency key, counted
// once and answered with the original reference; an invalid event (unknown customer, product
// or meter) is refused with an error that names it.
func (s *Engine) Record(ctx context.Context, merchant string, e Event) (Recorded, error) {
	r, err := s.recordOne(ctx, merchant, e, domain.NewTimedRef(domain.PrefixUsage, time.Now()))
	if err != nil {
		return Recorded{}, err
	}
	metrics.UsageEvents.Inc()
	return r, nil
}

// RecordMany records events for merchant atomically: either every event is stored and counted
// (a repeated idempotency key counts once and answers with the original reference) or, when
// one is invalid (unknown customer, product or meter), nothing is and the error names it.
func (s *Engine) RecordMany(ctx context.Context, merchant string, events []Event) ([]Recorded, error) {
	switch len(events) {
	case 0:
		return nil, nil
	case 1:
		r, err := s.Record(ctx, merchant, events[0])
		if err != nil {
			return nil, err
		}
		return []Recorded{r}, nil
	}
	now := time.Now()
	ids := make([]string, len(events))
	for i := range ids {
		ids[i] = domain.NewTimedRef(domain.PrefixUsage, now)
	}
	out, err := s.recordMany(ctx, merchant, events, ids)
	if err == nil {
		metrics.UsageEvents.Add(float64(len(out)))
	}
	return out, err
}

// recordMany records a batch: on the fast path when it can, else with recordBatch
// (bulk_copy.go).
func (s *Engine) recordMany(ctx context.Context, merchant string, events []Event, ids []string) ([]Recorded, error) {
	out, ok, err := s.recordBatchFast(ctx, merchant, events, ids)
	s.cache.count(ok)
	if ok || err != nil {
		return out, err
	}
	limits, err := s.limitsOf(ctx, merchant, events)
	if err != nil {
		return nil, err
	}
	err = retryConflicts(ctx, func() error {
		out, err = s.recordBatch(ctx, merchant, events, ids, limits)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recordAlone records one event by itself: on the fast path when its facts resolve, else with
// recordOneSQL.
func (s *Engine) recordAlone(ctx context.Context, merchant string, e Event, id string) (Recorded, error) {
	res, ok, err := s.resolveFast(ctx, merchant, []Event{e})
	if err != nil {
		return Recorded{}, err
	}
	if !ok {
		s.cache.count(false)
		return s.recordFull(ctx, merchant, e, id)
	}
	return s.recordResolved(ctx, merchant, e, id, res[0])
}

// recordResolved records one event whose facts resolved: on the fast path, else (a version
// moved, a repeated key) with recordOneSQL.
func (s *Engine) recordResolved(ctx context.Context, merchant string, e Event, id string, res resolved) (Recorded, error) {
	r, ok, err := s.recordOneFast(ctx, merchant, e, id, res)
	s.cache.count(ok)
	if ok || err != nil {
		return r, err
	}
	return s.recordFull(ctx, merchant, e, id)
}

// recordFull records one event with recordOneSQL, which resolves it in SQL and words what is
// wrong with it.
func (s *Engine) recordFull(ctx context.Context, merchant string, e Event, id string) (Recorded, error) {
	limits, err := s.limitsOf(ctx, merchant, []Event{e})
	if err != nil {
		return Recorded{}, err
	}
	var lk limitKey // the event's counter, when its facts resolve
	var limit int64
	for k, l := range limits {
		lk, limit = k, l
	}
	var r Recorded
	err = retryConflicts(ctx, func() error {
		r = Recorded{Units: e.Units, Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, ProductRef: e.ProductRef}
		var productOK, meterOK, inserted bool
		var original *string
		sql, args := recordOneSQL.of(limit > 0, merchant, e.CustomerRef, e.ProductRef, e.Meter, e.ActionType, e.Units,
			id, e.Outcome, e.IdempotencyKey, e.OccurredAt, string(e.Metadata), domain.DefaultMeters, store.DefaultPlanMeter,
			limit, lk.customer, lk.meter, domain.ModeFrom(ctx))
		if err := s.pool.QueryRow(ctx, sql, args...).
			Scan(&r.CustomerRef, &productOK, &meterOK, &r.Meter, &r.PeriodStart, &inserted, &original); err != nil {
			return err
		}
		if refusal := refusalOf(0, e, r.CustomerRef, productOK, meterOK); refusal != nil {
			return refusal
		}
		switch {
		case inserted:
			r.Ref = id
		case original != nil:
			r.Ref, r.Duplicate = *original, true
		default: // the original was committed by another request after our snapshot
			r.Duplicate = true
			return s.originalOf(ctx, merchant, &r)
		}
		return nil
	})
	return r, err
}

// originalOf finds the reference stored under r's idempotency key by a request that committed
// after the recording statement's snapshot; when that request rolled back after all, it asks
// for the event to be recorded again.
func (s *Engine) originalOf(ctx context.Context, merchant string, r *Recorded) error {
	err := s.pool.QueryRow(ctx, `SELECT id FROM usage_events WHERE merchant_id = $1 AND idempotency_key = $2`,
		merchant, r.IdempotencyKey).Scan(&r.Ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return errRetry
	}
	return err
}

var errRetry = errors.New("usage: retry the batch")

// retryConflicts reruns fn after a deadlock or serialization failure between concurrent batches
// (safe: the statement is idempotent by key), a few times.
func retryConflicts(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = fn()
		var pg *pgconn.PgError
		if errors.Is(err, errRetry) || (errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")) {
			if ctx.Err() != nil {
				return err
			}
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		return err
	}
	return err
}

// MonthStart is the calendar month (UTC) a usage event without a purchase period counts in.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}
