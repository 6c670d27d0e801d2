package usage

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Counters on the batch fast path. A batch spreads over as many counters as it has customers,
// up to 1,000, and the upsert of addCounters costs about 5 µs per counter: a probe of the
// five-column key, a tuple lock and the update. The store remembers each counter's id
// (migration 00060) once it has seen it, and adds the units of known counters with one UPDATE
// joined on the id, about half the cost. Counters it does not know yet go through the upsert,
// which hands back their ids for next time.
//
// An id is never trusted blindly either: the UPDATE must touch exactly the counters it was
// given, or the batch rolls back and takes the full path. Ids are never reused (an identity
// sequence) and counters are never deleted, so that only happens if one is deleted by hand.

// counterSlot names a counter in the id cache: a customer id is unique across merchants.
type counterSlot struct {
	customer, product, meter string
	period                   int64 // Unix microseconds: equal instants, equal slots
}

func slotOf(k counterKey) counterSlot {
	return counterSlot{k.customer, k.product, k.meter, k.period.UnixMicro()}
}

// addCountersByIDSQL adds units to counters by id, with the events of the marks they cross
// ($4 the merchant, $5 the mode), and answers how many counters it found.
var addCountersByIDSQL = withMarks(`
WITH added AS (
  UPDATE usage_counters uc SET units = uc.units + t.units, updated_at = now()
  FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(id, units, lim) WHERE uc.id = t.id
  RETURNING uc.customer_id, uc.product_id, uc.meter_name, uc.period_start, uc.units AS used, t.units, t.lim`, 2,
	"added", "$4", "$5", `
SELECT count(*) FROM added`)

// counterIDs are counter ids the upsert handed back, cached once the transaction commits.
type counterIDs map[counterSlot]int64

// addCountersFast adds units to their counters (in a transaction of writeBatch): by id
// where the id is known, through the upsert otherwise. ok is false when a remembered id no
// longer matched a counter; the caller then rolls back.
func (s *Engine) addCountersFast(ctx context.Context, tx pgx.Tx, merchant, mode string, counters counterAdds, now time.Time) (counterIDs, bool, error) {
	if len(counters) == 0 {
		return nil, true, nil
	}
	if err := lockCounters(ctx, tx, merchant); err != nil {
		return nil, false, err
	}
	var ids, units, limits []int64
	unknown := counterAdds{}
	for k, a := range counters {
		if id, ok := s.cache.counters.get(slotOf(k), now); ok {
			ids, units, limits = append(ids, id), append(units, a.units), append(limits, a.limit)
		} else {
			unknown[k] = a
		}
	}
	if len(ids) > 0 {
		var found int
		sql, args := addCountersByIDSQL.of(anyLimit(limits), ids, units, limits, merchant, mode)
		if err := tx.QueryRow(ctx, sql, args...).Scan(&found); err != nil {
			return nil, false, err
		}
		if found != len(ids) {
			s.cache.forgetCounters(counters)
			return nil, false, nil
		}
	}
	learned, err := upsertCounters(ctx, tx, merchant, mode, unknown)
	return learned, err == nil, err
}

// lockCounters queues the batches of one merchant on a transaction-scoped advisory lock before
// they touch counters. Without it, four concurrent batches over the same 1,000 counters queued
// row by row on each other's row locks: the bench's bulk ingest fell from 80,000 to 36,000
// events/s and its Postgres CPU per event doubled. A group of single events takes the same lock
// in its statement (recordGroupSQL). A single event written alone takes none: it holds one
// counter row, so it never closes a cycle with a batch or a group.
func lockCounters(ctx context.Context, tx pgx.Tx, merchant string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+counterLockClass+`, hashtext($1))`, merchant)
	return err
}

// upsertCounters adds units to counters by their key, creating the missing ones, with the
// events of the marks they cross, and returns every counter's id.
func upsertCounters(ctx context.Context, tx pgx.Tx, merchant, mode string, counters counterAdds) (counterIDs, error) {
	if len(counters) == 0 {
		return nil, nil
	}
	n := len(counters)
	cs, ps, ms, ss := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]time.Time, 0, n)
	us, ls := make([]int64, 0, n), make([]int64, 0, n)
	for k, a := range counters {
		cs, ps, ms, ss = append(cs, k.customer), append(ps, k.product), append(ms, k.meter), append(ss, k.period)
		us, ls = append(us, a.units), append(ls, a.limit)
	}
	sql, args := addCountersSQL.of(anyLimit(ls), merchant, cs, ps, ms, ss, us, ls, mode)
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	ids := make(counterIDs, n)
	var k counterKey
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&k.customer, &k.product, &k.meter, &k.period, &id}, func() error {
		ids[slotOf(k)] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add to usage counters: %w", err)
	}
	return ids, nil
}

// forgetCounters drops the remembered ids of counters.
func (c *cache) forgetCounters(counters counterAdds) {
	slots := make([]counterSlot, 0, len(counters))
	for k := range counters {
		slots = append(slots, slotOf(k))
	}
	c.counters.forget(slots...)
}

// batchGate bounds the batch transactions this process runs at once. A batch's COPY holds a
// snapshot for milliseconds, and while any snapshot that might still see a counter's old version
// is open, Postgres cannot prune that version from its page. With 8 batches at once instead of
// 4, a quarter of the counter updates found no room left on their page (fillfactor 30) and were
// not HOT, and bulk ingest fell from about 127,000 to 82,000 events/s. Batches past the bound wait
// here, which costs nothing, rather than in Postgres. Its zero value is ready.
type batchGate struct {
	once  sync.Once
	slots chan struct{}
}

// maxBatches is batchGate's bound: 2 cores were busy with 4.
var maxBatches = max(4, runtime.GOMAXPROCS(0))

func (g *batchGate) acquire(ctx context.Context) (release func(), err error) {
	g.once.Do(func() { g.slots = make(chan struct{}, maxBatches) })
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

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
