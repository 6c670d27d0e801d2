package usage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// The fast writes of resolved events: one alone (writeAlone) and a batch (writeBatch); a group
// of single events is in group.go. Each answers handled=false whenever it cannot be sure (a
// version moved, an idempotency key already taken): fastOrFull then runs the full statements,
// which decide and word the answer exactly as before.

// recordOneFastSQL stores one resolved event and adds it to its counter, only when the
// customer's and merchant's versions are still those the resolution was read at, with the events
// of the marks it crosses ($15 the limit, $16 the mode).
var recordOneFastSQL = withMarks(`
WITH ok AS (
  SELECT 1 FROM customers c, merchants m WHERE c.id = $3 AND c.usage_version = $13 AND m.id = $2 AND m.usage_version = $14
), ins AS (
  INSERT INTO usage_events (id, merchant_id, customer_id, product_id, meter_name, action_type, units, outcome,
                            idempotency_key, occurred_at, metadata)
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, '')::jsonb FROM ok
  ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
  RETURNING id
), counted AS (
  INSERT INTO usage_counters AS uc (merchant_id, customer_id, product_id, meter_name, period_start, units)
  SELECT $2, $3, $4, $5, $12, $7 FROM ins WHERE $8 = 'success'
  ON CONFLICT (merchant_id, customer_id, product_id, meter_name, period_start)
  DO UPDATE SET units = uc.units + EXCLUDED.units, updated_at = now()
  RETURNING units`, 2,
	`(SELECT $3::text AS customer_id, $4::text AS product_id, $5::text AS meter_name,
    $12::timestamptz AS period_start, units AS used, $7::bigint AS units, $15::bigint AS lim FROM counted)`, "$2", "$16", `
SELECT EXISTS (SELECT 1 FROM ok), EXISTS (SELECT 1 FROM ins)`)

// writeAlone writes one resolved event by itself with recordOneFastSQL. handled is false when a
// version moved or its key was taken: the full statement then answers (with the original
// reference for a repeated key).
func (s *Engine) writeAlone(ctx context.Context, merchant string, e Event, id string, r resolved) (Recorded, bool, error) {
	var current, inserted bool
	limit := r.limit()
	sql, args := recordOneFastSQL.of(limit > 0, id, merchant, r.facts.CustomerID, e.ProductRef, r.meter, e.ActionType,
		e.Units, e.Outcome, e.IdempotencyKey, e.OccurredAt, string(e.Metadata), r.period, r.facts.CustomerVersion,
		r.facts.MerchantVersion, limit, domain.ModeFrom(ctx))
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&current, &inserted); err != nil {
		return Recorded{}, false, err
	}
	if !current {
		s.cache.forget(merchant, r.key)
		return Recorded{}, false, nil
	}
	if !inserted { // a repeated key: the full statement answers with the original reference
		return Recorded{}, false, nil
	}
	return r.recorded(id, e), true, nil
}

const versionsCurrentSQL = `
SELECT (SELECT count(*) FROM unnest($2::text[], $3::bigint[]) AS v(id, version)
        JOIN customers c ON c.id = v.id AND c.usage_version = v.version) = cardinality($2::text[])
   AND (SELECT usage_version FROM merchants WHERE id = $1) = $4`

// writeBatch writes a resolved batch in one transaction: check the versions, COPY the events,
// add the counters (by id where known, addCountersFast). A key already stored fails the COPY
// (unique violation) and sends the batch to the full path, which answers with the original
// references; so does a version moved, a forgotten counter id or a conflict with another batch.
func (s *Engine) writeBatch(ctx context.Context, merchant string, events []Event, ids []string, res []resolved) ([]Recorded, bool, error) {
	now := time.Now()
	out := make([]Recorded, len(events))
	first := make(map[string]int, len(events))
	rows := make([][]any, 0, len(events))
	counters := make(counterAdds, len(events))
	for i, e := range events {
		r := res[i]
		if j, dup := first[e.IdempotencyKey]; dup {
			out[i] = r.recorded(ids[j], e)
			out[i].Duplicate = true
			continue
		}
		first[e.IdempotencyKey] = i
		out[i] = r.recorded(ids[i], e)
		rows = append(rows, copyRow(ids[i], merchant, r.facts.CustomerID, r.meter, e))
		if e.Outcome == OutcomeSuccess {
			counters.add(counterKey{r.facts.CustomerID, e.ProductRef, r.meter, r.period}, e.Units, r.limit())
		}
	}
	customers, versions := customerVersions(res)
	release, err := s.cache.batches.acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	defer release()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback(ctx)
	var current bool
	if err := tx.QueryRow(ctx, versionsCurrentSQL, merchant, customers, versions, res[0].facts.MerchantVersion).Scan(&current); err != nil {
		return nil, false, err
	}
	if !current {
		s.forgetResolved(merchant, res)
		return nil, false, nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_events"}, usageEventColumns, pgx.CopyFromRows(rows)); err != nil {
		if store.IsUniqueViolation(err, "") {
			return nil, false, nil
		}
		return nil, false, err
	}
	learned, ok, err := s.addCountersFast(ctx, tx, merchant, domain.ModeFrom(ctx), counters, now)
	if err != nil {
		if isConflict(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if !ok {
		return nil, false, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, err
	}
	s.cache.counters.put(learned, now)
	return out, true, nil
}
