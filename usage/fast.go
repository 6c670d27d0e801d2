package usage

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/domain"
)

// The fast paths of Record, RecordMany and LimitState (see cache.go). Each answers handled=false
// whenever it cannot be sure (a fact not in memory and not resolvable, a version moved, an
// invalid event, an idempotency key already taken): the caller then runs the full statement,
// which decides and words the answer exactly as before.

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

// resolved is one event's resolution on the fast path.
type resolved struct {
	key    pairKey
	facts  *pairFacts
	meter  string
	period time.Time
}

// resolveFast resolves events from memory (reading what is missing); ok is false when any
// event is not plainly valid or the facts disagree on the merchant's version.
func (s *Engine) resolveFast(ctx context.Context, merchant string, events []Event) ([]resolved, bool, error) {
	if s.cache.off {
		return nil, false, nil
	}
	now := time.Now()
	mf, err := s.merchantFacts(ctx, merchant, now, true)
	if err != nil {
		return nil, false, err
	}
	keys := make([]pairKey, len(events))
	for i, e := range events {
		keys[i] = pairKey{merchant, e.CustomerRef, e.ProductRef}
	}
	facts, err := s.pairFacts(ctx, merchant, keys, now, true)
	if err != nil {
		return nil, false, err
	}
	out := make([]resolved, len(events))
	for i, e := range events {
		f := facts[keys[i]]
		if f == nil {
			return nil, false, nil
		}
		if f.MerchantVersion != mf.Version {
			s.cache.forget(merchant, keys...)
			return nil, false, nil
		}
		meter, ok := mf.meterOf(e.Meter, e.ActionType, f)
		if !ok {
			return nil, false, nil
		}
		out[i] = resolved{key: keys[i], facts: f, meter: meter, period: f.periodOf(e.OccurredAt.Truncate(time.Microsecond))}
	}
	return out, true, nil
}

// customerVersions is each customer of res with the version its facts were read at, once per
// (customer, version): a customer named by both its cus_ reference and its externalRef may hold
// facts read at two versions, and each must be checked.
func customerVersions(res []resolved) (ids []string, versions []int64) {
	type version struct {
		id string
		v  int64
	}
	seen := make(map[version]bool, len(res))
	for _, r := range res {
		if v := (version{r.facts.CustomerID, r.facts.CustomerVersion}); !seen[v] {
			seen[v] = true
			ids, versions = append(ids, v.id), append(versions, v.v)
		}
	}
	return ids, versions
}

// forgetResolved drops the facts of res after a version check showed some of them stale.
func (s *Engine) forgetResolved(merchant string, res []resolved) {
	keys := make([]pairKey, len(res))
	for i, r := range res {
		keys[i] = r.key
	}
	s.cache.forget(merchant, keys...)
}

// limit is the limit of the event's counter (0 for none).
func (r resolved) limit() int64 { return r.facts.limitOn(r.meter) }

func (r resolved) recorded(id string, e Event) Recorded {
	return Recorded{Ref: id, CustomerRef: r.facts.CustomerID, ProductRef: e.ProductRef, Meter: r.meter, Units: e.Units,
		Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, PeriodStart: r.period}
}

// recordOneFast records one event, resolved by resolveFast, on the fast path.
func (s *Engine) recordOneFast(ctx context.Context, merchant string, e Event, id string, r resolved) (Recorded, bool, error) {
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

// recordBatchFast records a batch on the fast path: check the versions, COPY the events, add
// the counters, in one transaction. A key already stored fails the COPY (unique violation) and
// sends the batch to the full path, which answers with the original references.
func (s *Engine) recordBatchFast(ctx context.Context, merchant string, events []Event, ids []string) ([]Recorded, bool, error) {
	now := time.Now()
	res, ok, err := s.resolveFast(ctx, merchant, events)
	if !ok || err != nil {
		return nil, false, err
	}
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
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "23505" {
			return nil, false, nil
		}
		return nil, false, err
	}
	learned, ok, err := s.addCountersFast(ctx, tx, merchant, domain.ModeFrom(ctx), counters, now)
	if err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001") {
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

// readLimit reads a planned check's counter, if its facts are still current.
func (s *Engine) readLimit(ctx context.Context, merchant string, lp limitPlan) (LimitState, bool, error) {
	st := lp.state
	var current bool
	if err := s.pool.QueryRow(ctx, limitFastSQL, merchant, lp.facts.CustomerID, st.ProductRef, st.Meter, st.PeriodStart,
		lp.facts.CustomerVersion, lp.facts.MerchantVersion).Scan(&current, &st.Used); err != nil {
		return LimitState{}, false, err
	}
	if !current {
		s.cache.forget(merchant, lp.key)
		return LimitState{}, false, nil
	}
	return st, true, nil
}

// limitPlan is a limit check resolved from memory: the state but its counter (Used), and the
// facts the counter read must check are still current.
type limitPlan struct {
	state LimitState
	key   pairKey
	facts *pairFacts
}

func (s *Engine) limitPlan(ctx context.Context, merchant, customerRef, productRef, meter, actionType string) (limitPlan, bool, error) {
	if productRef == "" {
		return limitPlan{}, false, nil
	}
	now := time.Now()
	res, ok, err := s.resolveFast(ctx, merchant, []Event{{CustomerRef: customerRef, ProductRef: productRef, Meter: meter,
		ActionType: actionType, OccurredAt: now}})
	if !ok || err != nil {
		return limitPlan{}, false, err
	}
	f := res[0].facts
	st := f.limitState(res[0].meter)
	st.ProductRef = productRef
	switch {
	case f.PurchaseRef == "":
		st.PeriodStart = MonthStart(now)
		end := st.PeriodStart.AddDate(0, 1, 0)
		st.PeriodEnd = &end
	case f.PurchaseStart != nil:
		st.PeriodStart, st.PeriodEnd = *f.PurchaseStart, f.PurchaseEnd
	default:
		st.PeriodStart, st.PeriodEnd = MonthStart(now), f.PurchaseEnd
	}
	return limitPlan{state: st, key: res[0].key, facts: f}, true, nil
}

const limitFastSQL = `
SELECT coalesce((SELECT usage_version FROM customers WHERE id = $2) = $6
                AND (SELECT usage_version FROM merchants WHERE id = $1) = $7, false),
  coalesce((SELECT units FROM usage_counters WHERE merchant_id = $1 AND customer_id = $2 AND product_id = $3
            AND meter_name = $4 AND period_start = $5), 0)`
