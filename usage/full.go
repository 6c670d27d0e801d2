package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

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
// the full path of a single event; writeAlone (write.go) is the usual one.
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

// recordFull records events with the full statements, which resolve everything in SQL and word
// what is wrong with an event: one event in one statement (recordOneSQL), a batch in one
// transaction (writeBatchFull). The limits of their counters, for the events of the marks they
// cross, come from the facts (limitsOf). A deadlock or serialization failure between concurrent
// writers, or a key that a racing writer took, reruns the statement (retryConflicts).
func (s *Engine) recordFull(ctx context.Context, merchant string, events []Event, ids []string) ([]Recorded, error) {
	limits, err := s.limitsOf(ctx, merchant, events)
	if err != nil {
		return nil, err
	}
	var out []Recorded
	err = retryConflicts(ctx, func() error {
		if len(events) > 1 {
			out, err = s.writeBatchFull(ctx, merchant, events, ids, limits)
			return err
		}
		r, err := s.writeOneFull(ctx, merchant, events[0], ids[0], limits)
		out = []Recorded{r}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeOneFull records one event with recordOneSQL.
func (s *Engine) writeOneFull(ctx context.Context, merchant string, e Event, id string, limits map[limitKey]int64) (Recorded, error) {
	var lk limitKey // the event's counter, when its facts resolve
	var limit int64
	for k, l := range limits {
		lk, limit = k, l
	}
	r := Recorded{Units: e.Units, Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, ProductRef: e.ProductRef}
	var productOK, meterOK, inserted bool
	var original *string
	sql, args := recordOneSQL.of(limit > 0, merchant, e.CustomerRef, e.ProductRef, e.Meter, e.ActionType, e.Units,
		id, e.Outcome, e.IdempotencyKey, e.OccurredAt, string(e.Metadata), domain.DefaultMeters, store.DefaultPlanMeter,
		limit, lk.customer, lk.meter, domain.ModeFrom(ctx))
	if err := s.pool.QueryRow(ctx, sql, args...).
		Scan(&r.CustomerRef, &productOK, &meterOK, &r.Meter, &r.PeriodStart, &inserted, &original); err != nil {
		return r, err
	}
	if refusal := refusalOf(0, e, r.CustomerRef, productOK, meterOK); refusal != nil {
		return r, refusal
	}
	switch {
	case inserted:
		r.Ref = id
	case original != nil:
		r.Ref, r.Duplicate = *original, true
	default: // the original was committed by another request after our snapshot
		r.Duplicate = true
		return r, s.originalOf(ctx, merchant, &r)
	}
	return r, nil
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

// isConflict reports a deadlock or serialization failure between concurrent writers.
func isConflict(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// retryConflicts reruns fn after a deadlock or serialization failure between concurrent batches
// (safe: the statement is idempotent by key), a few times.
func retryConflicts(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = fn()
		if errors.Is(err, errRetry) || isConflict(err) {
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

// resolveBulkSQL resolves a batch set by set, for writeBatchFull: a batch of
// 1,000 events often names 1,000 different customers, and per-pair correlated lookups (customer
// by reference, then by externalRef, live purchase, plan, default plan) cost about 40 µs a pair.
// Here each lookup is one join over all pairs, the product checks run once per distinct product
// and the meter rule's lookups once per distinct meter/actionType. It answers, per event in
// order, the resolution and the reference already stored under its idempotency key (NULL when
// new). $1 is the merchant, $2–$11 the events' columns, $12 the default meters, $13 the default
// plan meter.
var resolveBulkSQL = `
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                       $9::text[], $10::timestamptz[], $11::text[])
    WITH ORDINALITY AS t(id, customer_ref, product_ref, meter, action_type, units, outcome, idempotency_key,
                         occurred_at, metadata, ord)
), pairs AS MATERIALIZED (
  SELECT DISTINCT customer_ref, product_ref FROM input
), prods AS MATERIALIZED (
  SELECT pp.product_ref,
    (pp.product_ref = '' OR EXISTS (SELECT 1 FROM products p WHERE p.merchant_id = $1 AND p.id = pp.product_ref
                                    AND p.deleted_at IS NULL)) AS product_ok,
    (SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = pp.product_ref AND d.is_default
     AND d.deleted_at IS NULL) AS default_plan
  FROM (SELECT DISTINCT product_ref FROM pairs) pp
), cust AS MATERIALIZED (
  SELECT pr.customer_ref, pr.product_ref, coalesce(c1.id, c2.id) AS customer_id
  FROM pairs pr
  LEFT JOIN customers c1 ON c1.id = pr.customer_ref AND c1.merchant_id = $1 AND c1.deleted_at IS NULL
  LEFT JOIN customers c2 ON c2.merchant_id = $1 AND c2.external_ref = pr.customer_ref AND c2.deleted_at IS NULL
), pu AS MATERIALIZED (
  SELECT DISTINCT ON (p.customer_id, p.product_id) p.customer_id, p.product_id, p.plan_id, p.current_period_start
  FROM purchases p JOIN (SELECT DISTINCT customer_id, product_ref FROM cust WHERE customer_id IS NOT NULL) k
    ON p.customer_id = k.customer_id AND p.product_id = k.product_ref
  WHERE p.merchant_id = $1 AND p.status IN ` + store.LiveStatuses + `
  ORDER BY p.customer_id, p.product_id, p.created_at DESC, p.id DESC
), resolved AS MATERIALIZED (
  SELECT c.customer_ref, c.product_ref, c.customer_id, d.product_ok, pu.current_period_start AS purchase_start,
    coalesce(nullif(pl.meter_name, ''), $13) AS plan_meter
  FROM cust c
  JOIN prods d ON d.product_ref = c.product_ref
  LEFT JOIN pu ON pu.customer_id = c.customer_id AND pu.product_id = c.product_ref
  LEFT JOIN plans pl ON pl.id = coalesce(pu.plan_id, d.default_plan)
), kinds AS MATERIALIZED (
  SELECT k.meter, k.action_type,
    (k.meter = '' OR k.meter = ANY($12::text[]) OR k.meter LIKE 'tool:_%'
      OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = k.meter)) AS meter_ok,
    (k.action_type = ANY($12::text[]) OR k.action_type LIKE 'tool:_%'
      OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = k.action_type)) AS action_is_meter
  FROM (SELECT DISTINCT meter, action_type FROM input) k
), evs AS MATERIALIZED (
  SELECT i.*, r.customer_id, r.product_ok, k.meter_ok,
    CASE WHEN i.meter <> '' THEN i.meter WHEN k.action_is_meter THEN i.action_type ELSE r.plan_meter END AS meter_name,
    ` + periodRule("i.occurred_at", "r.purchase_start") + ` AS period_start
  -- LEFT joins (every event has exactly one row in each): with inner joins on two columns the
  -- planner guessed a handful of rows here and chose nested loops over the 1,000 events
  FROM input i
  LEFT JOIN resolved r ON r.customer_ref = i.customer_ref AND r.product_ref = i.product_ref
  LEFT JOIN kinds k ON k.meter = i.meter AND k.action_type = i.action_type
)
SELECT e.ord, coalesce(e.customer_id, ''), e.product_ok, e.meter_ok, e.meter_name, e.period_start,
       (SELECT o.id FROM usage_events o WHERE o.merchant_id = $1 AND o.idempotency_key = e.idempotency_key)
FROM evs e ORDER BY e.ord`

// writeBatchFull records a batch (more than one event) in one transaction of four steps:
// resolve every event (customer, product, meter, period) and find the keys already taken, in
// one read-only statement (resolveBulkSQL); COPY the new events straight into usage_events; add
// their units to the counters in one upsert; commit. INSERT … SELECT … ON CONFLICT wrote the
// rows one at a time and, with several batches at once, cost about five times raw COPY per
// event; COPY uses Postgres' multi-row insert path. A key taken by a concurrent batch between
// the read and the COPY fails the COPY with a unique violation: the whole transaction rolls back
// and is retried, when the key is seen as a duplicate. limits are the counters' limits
// (limitsOf), for the events of the marks they cross.
func (s *Engine) writeBatchFull(ctx context.Context, merchant string, events []Event, ids []string, limits map[limitKey]int64) ([]Recorded, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, resolveBulkSQL, append([]any{pgx.QueryExecModeCacheDescribe}, resolveBulkArgs(merchant, events, ids)...)...)
	if err != nil {
		return nil, err
	}
	n := len(events)
	out := make([]Recorded, n)
	var refusal error
	first := make(map[string]int, n) // idempotency key → the event of this batch that stores it
	copyRows := make([][]any, 0, n)
	counters := counterAdds{}
	for rows.Next() {
		var ord int
		var r Recorded
		var productOK, meterOK bool
		var original *string
		if err := rows.Scan(&ord, &r.CustomerRef, &productOK, &meterOK, &r.Meter, &r.PeriodStart, &original); err != nil {
			rows.Close()
			return nil, err
		}
		i := ord - 1
		e := events[i]
		if refusal == nil {
			refusal = refusalOf(i, e, r.CustomerRef, productOK, meterOK)
		}
		r.Units, r.Outcome, r.IdempotencyKey, r.OccurredAt, r.ProductRef = e.Units, e.Outcome, e.IdempotencyKey, e.OccurredAt, e.ProductRef
		if original != nil {
			r.Ref, r.Duplicate = *original, true
		} else if j, ok := first[e.IdempotencyKey]; ok {
			r.Ref, r.Duplicate = ids[j], true
		} else if refusal == nil {
			first[e.IdempotencyKey] = i
			r.Ref = ids[i]
			copyRows = append(copyRows, copyRow(ids[i], merchant, r.CustomerRef, r.Meter, e))
			if e.Outcome == OutcomeSuccess {
				counters.add(counterKey{r.CustomerRef, e.ProductRef, r.Meter, r.PeriodStart}, e.Units,
					limits[limitKey{r.CustomerRef, e.ProductRef, r.Meter}])
			}
		}
		out[i] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	if len(copyRows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_events"}, usageEventColumns, pgx.CopyFromRows(copyRows)); err != nil {
			if store.IsUniqueViolation(err, "") { // a concurrent batch took a key: retry
				return nil, errRetry
			}
			return nil, err
		}
	}
	if err := addCounters(ctx, tx, merchant, domain.ModeFrom(ctx), counters); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveBulkArgs are resolveBulkSQL's arguments: the events column by column.
func resolveBulkArgs(merchant string, events []Event, ids []string) []any {
	n := len(events)
	customers, products, meters, actions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units, outcomes, keys, meta := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	for i, e := range events {
		customers[i], products[i], meters[i], actions[i] = e.CustomerRef, e.ProductRef, e.Meter, e.ActionType
		units[i], outcomes[i], keys[i], meta[i], at[i] = e.Units, e.Outcome, e.IdempotencyKey, string(e.Metadata), e.OccurredAt
	}
	return []any{merchant, ids, customers, products, meters, actions, units, outcomes, keys, at, meta, domain.DefaultMeters, store.DefaultPlanMeter}
}
