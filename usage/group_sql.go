package usage

import (
	"context"
	"time"
)

// recordGroupSQL writes a group of single events in one statement (one round trip, one
// commit): it checks the versions its resolutions were read at, queues on the merchant's
// counter lock as batches do, inserts the events whose keys are new and adds them to their
// counters, in key order. Events whose key was already taken are left out and reported by
// their absence from the answer, as is everything when a version moved. Each customer's version
// is looked up by its key: written as a join, the planner hashed the whole customers table for
// every group, which cost more than the group's writes. It writes the events of the marks the
// counters cross ($16 each event's limit, $17 the mode).
var recordGroupSQL = withMarks(`
WITH ok AS (
  SELECT pg_advisory_xact_lock(`+counterLockClass+`, hashtext($2))
  WHERE (SELECT usage_version FROM merchants WHERE id = $2) = $14
    AND NOT EXISTS (SELECT 1 FROM unnest($12::text[], $13::bigint[]) AS v(id, version)
                    WHERE (SELECT c.usage_version FROM customers c WHERE c.id = v.id) IS DISTINCT FROM v.version)
), ins AS (
  INSERT INTO usage_events (id, merchant_id, customer_id, product_id, meter_name, action_type, units, outcome,
                            idempotency_key, occurred_at, metadata)
  SELECT e.id, $2, e.customer_id, e.product_id, e.meter_name, e.action_type, e.units, e.outcome, e.idempotency_key,
         e.occurred_at, nullif(e.metadata, '')::jsonb
  FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],
              $10::timestamptz[], $11::text[])
       AS e(id, customer_id, product_id, meter_name, action_type, units, outcome, idempotency_key, occurred_at, metadata),
       ok
  ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
  RETURNING id, customer_id, product_id, meter_name, units, outcome
), sums AS (
  SELECT i.customer_id, i.product_id, i.meter_name, p.period_start, sum(i.units)::bigint AS units, max(p.lim) AS lim
  FROM ins i JOIN unnest($1::text[], $15::timestamptz[], $16::bigint[]) AS p(id, period_start, lim) ON p.id = i.id
  WHERE i.outcome = 'success'
  GROUP BY 1, 2, 3, 4
), counted AS (
  INSERT INTO usage_counters AS uc (merchant_id, customer_id, product_id, meter_name, period_start, units)
  SELECT $2, customer_id, product_id, meter_name, period_start, units FROM sums ORDER BY 2, 3, 4, 5
  ON CONFLICT (merchant_id, customer_id, product_id, meter_name, period_start)
  DO UPDATE SET units = uc.units + EXCLUDED.units, updated_at = now()
  RETURNING customer_id, product_id, meter_name, period_start, units AS used`, 1,
	`(SELECT c.customer_id, c.product_id, c.meter_name, c.period_start, c.used, s.units, s.lim
    FROM counted c JOIN sums s USING (customer_id, product_id, meter_name, period_start) WHERE s.lim > 0)`, "$2", "$17", `
SELECT EXISTS (SELECT 1 FROM ok), coalesce((SELECT array_agg(id) FROM ins), '{}')`)

// recordGroupFast writes events (of different callers, keys distinct) with recordGroupSQL.
// done[i] tells whether event i was stored; ok is false when nothing was, because a version
// moved.
func (s *Engine) recordGroupFast(ctx context.Context, merchant, mode string, events []Event, ids []string) (out []Recorded, done []bool, ok bool, err error) {
	res, ok, err := s.resolveFast(ctx, merchant, events)
	if !ok || err != nil {
		return nil, nil, false, err
	}
	n := len(events)
	customers, products, meters, actions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units, outcomes, keys, meta := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	at, periods, limits := make([]time.Time, n), make([]time.Time, n), make([]int64, n)
	out = make([]Recorded, n)
	for i, e := range events {
		r := res[i]
		customers[i], products[i], meters[i], actions[i] = r.facts.CustomerID, e.ProductRef, r.meter, e.ActionType
		units[i], outcomes[i], keys[i], meta[i], at[i], periods[i] = e.Units, e.Outcome, e.IdempotencyKey, string(e.Metadata), e.OccurredAt, r.period
		limits[i] = r.limit()
		out[i] = r.recorded(ids[i], e)
	}
	versionIDs, versions := customerVersions(res)
	var current bool
	var stored []string
	sql, args := recordGroupSQL.of(anyLimit(limits), ids, merchant, customers, products, meters, actions, units, outcomes, keys,
		at, meta, versionIDs, versions, res[0].facts.MerchantVersion, periods, limits, mode)
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&current, &stored); err != nil {
		return nil, nil, false, err
	}
	if !current {
		s.forgetResolved(merchant, res)
		return nil, nil, false, nil
	}
	in := make(map[string]bool, len(stored))
	for _, id := range stored {
		in[id] = true
	}
	done = make([]bool, n)
	for i := range done {
		done[i] = in[ids[i]]
	}
	return out, done, true, nil
}
