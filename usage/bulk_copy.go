package usage

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// A batch is recorded in one transaction of four steps: resolve every event (customer,
// product, meter, period) and find the keys already taken, in one read-only statement; COPY
// the new events straight into usage_events; add their units to the counters in one upsert;
// commit. INSERT … SELECT … ON CONFLICT wrote the rows one at a time and, with several
// batches at once, cost about five times raw COPY per event; COPY uses Postgres' multi-row
// insert path. A key taken by a concurrent batch between the read and the COPY fails the COPY
// with a unique violation: the whole transaction rolls back and is retried, when the key is
// seen as a duplicate.

// addCountersSQL adds units to counters by their key ($2–$6), creating the missing ones, with
// the events of the marks they cross ($7 the limits, $8 the mode), and answers each counter's id.
var addCountersSQL = withMarks(`
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[], $7::bigint[])
    AS t(customer_id, product_id, meter_name, period_start, units, lim)
), added AS (
  INSERT INTO usage_counters AS uc (merchant_id, customer_id, product_id, meter_name, period_start, units)
  SELECT $1, customer_id, product_id, meter_name, period_start, units FROM input
  ON CONFLICT (merchant_id, customer_id, product_id, meter_name, period_start)
  DO UPDATE SET units = uc.units + EXCLUDED.units, updated_at = now()
  RETURNING customer_id, product_id, meter_name, period_start, id, units AS used`, 1,
	`(SELECT a.customer_id, a.product_id, a.meter_name, a.period_start, a.used, i.units, i.lim
    FROM added a JOIN input i USING (customer_id, product_id, meter_name, period_start) WHERE i.lim > 0)`, "$1", "$8", `
SELECT customer_id, product_id, meter_name, period_start, id FROM added`)

// counterLockClass is the first key of the merchant's counter lock (lockCounters,
// recordGroupSQL): an advisory lock namespace of its own.
const counterLockClass = "74010"

var usageEventColumns = []string{"id", "merchant_id", "customer_id", "product_id", "meter_name", "action_type", "units",
	"outcome", "idempotency_key", "occurred_at", "metadata"}

type counterKey struct {
	customer, product, meter string
	period                   time.Time
}

// counterAdd is what a write adds to a counter, and the counter's limit (0 for none).
type counterAdd struct{ units, limit int64 }

// counterAdds are the counters a write adds to.
type counterAdds map[counterKey]counterAdd

func (c counterAdds) add(k counterKey, units, limit int64) {
	a := c[k]
	c[k] = counterAdd{a.units + units, limit}
}

// recordBatch records events (more than one) as described above; limits are their counters'
// limits (limitsOf), for the events of the marks they cross.
func (s *Engine) recordBatch(ctx context.Context, merchant string, events []Event, ids []string, limits map[limitKey]int64) ([]Recorded, error) {
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
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "23505" { // a concurrent batch took a key: retry
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

// copyRow is an event's row for COPY into usage_events (usageEventColumns).
func copyRow(id, merchant, customer, meter string, e Event) []any {
	var meta any
	if len(e.Metadata) > 0 {
		meta = []byte(e.Metadata)
	}
	return []any{id, merchant, customer, e.ProductRef, meter, e.ActionType, e.Units, e.Outcome, e.IdempotencyKey, e.OccurredAt, meta}
}

// addCounters adds units to their counters in one upsert, after the merchant's counter lock.
func addCounters(ctx context.Context, tx pgx.Tx, merchant, mode string, counters counterAdds) error {
	if len(counters) == 0 {
		return nil
	}
	if err := lockCounters(ctx, tx, merchant); err != nil {
		return err
	}
	_, err := upsertCounters(ctx, tx, merchant, mode, counters)
	return err
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
