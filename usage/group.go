package usage

import (
	"context"
	"time"

	"github.com/tollgate-billing/tollgate/internal/metrics"
)

// Group commit for single events. Each record_usage call used to be its own statement and its
// own commit: about 145 µs of Postgres CPU per event under the bench's load, where writing
// groups one after another took 50 µs per event in all (Go, network and Postgres) for groups of
// 11, and 31 µs for groups of 30. So single events of one merchant that arrive while that
// merchant's slots are busy queue (a coalescer, admit.go) and then go together in one
// statement and one commit (recordGroupSQL: the events and their counters). Nothing waits on a
// timer: with a slot free and nothing queued an event is written at once, alone, as before;
// groups form only under load, and grow with it.
//
// A group changes nothing a caller can see. Each event gets the answer it would have had alone:
// its own reference, or the original one for a repeated key. Only events whose facts the fast
// path resolves join a group; an event the group cannot store (a key taken, a version moved, an
// error) is written by its caller alone, exactly as before.

// maxGroup caps the events of one group (one statement's arrays).
const maxGroup = 256

// groupTimeout bounds a group's statements, which run for several callers at once; each caller
// still stops waiting when its own context ends.
const groupTimeout = 5 * time.Second

// writeGroup writes a group in one statement on the fast path and answers each of its events.
// An event the group could not store is written by its caller alone, which answers as before:
// its key was stored already (by an earlier call, or by the group itself when two callers sent
// the same key: those are sent alone once the group is written, to find the first one stored),
// or a version moved.
func (s *Engine) writeGroup(merchant, mode string, group []*groupedEvent) {
	answer := func(i int, a groupAnswer) { group[i].done <- a }
	metrics.UsageGroupSize.Observe(float64(len(group)))
	if len(group) == 1 {
		answer(0, groupAnswer{alone: true})
		return
	}
	var events []Event
	var ids []string
	var members, repeats []int // the first event of each key goes in the statement
	taken := make(map[string]bool, len(group))
	for i, p := range group {
		if taken[p.event.IdempotencyKey] {
			repeats = append(repeats, i)
			continue
		}
		taken[p.event.IdempotencyKey] = true
		events, ids, members = append(events, p.event), append(ids, p.id), append(members, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	out, done, ok, err := s.groupStatement(ctx, merchant, mode, events, ids)
	for j, i := range members {
		switch {
		case err != nil || !ok || !done[j]:
			// An error is each caller's to meet alone too: one event Postgres refuses must not
			// fail the others, and an outage fails each of them on its own anyway.
			answer(i, groupAnswer{alone: true})
		default:
			s.cache.grouped.Add(1)
			answer(i, groupAnswer{rec: out[j]})
		}
	}
	for _, i := range repeats {
		answer(i, groupAnswer{alone: true})
	}
}

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

// groupStatement writes events (of different callers, keys distinct) with recordGroupSQL.
// done[i] tells whether event i was stored; ok is false when nothing was, because a version
// moved.
func (s *Engine) groupStatement(ctx context.Context, merchant, mode string, events []Event, ids []string) (out []Recorded, done []bool, ok bool, err error) {
	res, ok, err := s.resolve(ctx, merchant, events)
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
