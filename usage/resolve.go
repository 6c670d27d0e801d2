package usage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// The usage hot path resolves every event and limit check to the same few facts: the customer's
// id, its live purchase of the product (period, plan), the plan's meter and allowance, the
// merchant's custom meters. They change rarely, so the store keeps them in memory and the hot
// statements shrink to an insert, a counter upsert or a counter read: no planning of a large
// statement, no dozen index lookups per call.
//
// Memory is never trusted on its own. Each cached fact carries the usage_version of its
// customer and of its merchant, counters that triggers move on every change that could alter a
// resolution (migration 00050), and the statement that writes or reads a counter checks both in
// the same snapshot. A mismatch drops the entry and the call takes the full statement, which
// resolves everything in SQL, so an answer is never staler than it would be without the cache.

// usageCacheTTL bounds how long an entry is kept (memory, not correctness: versions decide
// whether an entry may be used); usageCacheMax bounds how many pairs are kept.
const (
	usageCacheTTL = 5 * time.Minute
	usageCacheMax = 200_000
)

// pairKey is a customer reference (cus_ or externalRef) and a product of one merchant.
type pairKey struct{ merchant, customer, product string }

// pairFacts is what a customer reference and product resolve to.
type pairFacts struct {
	CustomerID     string
	PurchaseRef    string
	PurchaseStatus domain.PurchaseStatus
	PauseBehavior  domain.PauseBehavior
	PurchaseStart  *time.Time
	PurchaseEnd    *time.Time
	PlanRef        string
	PlanType       domain.PlanType
	PlanMeter      string // as stored: empty means store.DefaultPlanMeter
	FreeUnits      int64
	Limit          *int64
	Seats          int64 // LimitState.Seats
	DefaultPlanRef string
	// the versions the facts were read at
	CustomerVersion, MerchantVersion int64
}

// merchantFacts is a merchant's version and custom meters.
type merchantFacts struct {
	Version int64
	Meters  map[string]struct{}
}

// cache is the engine's memory: the facts events resolve to, counter ids, the queues of
// admission and the counts of paths. It is safe for concurrent use; its zero value is ready.
type cache struct {
	pairs     ttlMap[pairKey, *pairFacts]
	merchants ttlMap[string, *merchantFacts]
	counters  ttlMap[counterSlot, int64]         // counter ids (counters.go)
	batches   batchGate                          // batch transactions in flight (counters.go)
	events    coalescer[groupKey, *groupedEvent] // single events waiting to go together (admit.go, group.go)
	limits    coalescer[string, *groupedLimit]   // limit checks waiting to be read together (limits_read.go)
	// fast and full count the calls answered on the fast path and by the full statements;
	// grouped and groupedReads count the single events written and limit checks read in a group
	fast, full, grouped, groupedReads atomic.Uint64
	// off sends every call to the full statements (tests compare the two paths)
	off bool
}

// forget drops what a failed version check showed to be stale.
func (c *cache) forget(merchant string, pairs ...pairKey) {
	c.merchants.forget(merchant)
	c.pairs.forget(pairs...)
}

// ttlMap is a map whose entries expire after usageCacheTTL; past usageCacheMax entries it
// starts again empty. Its zero value is ready.
type ttlMap[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func (t *ttlMap[K, V]) get(k K, now time.Time) (V, bool) {
	t.mu.RLock()
	e, ok := t.m[k]
	t.mu.RUnlock()
	if !ok || now.Sub(e.at) > usageCacheTTL {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (t *ttlMap[K, V]) put(entries map[K]V, now time.Time) {
	if len(entries) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m)+len(entries) > usageCacheMax {
		t.m = make(map[K]ttlEntry[V], len(entries))
	}
	for k, v := range entries {
		t.m[k] = ttlEntry[V]{v, now}
	}
}

func (t *ttlMap[K, V]) forget(keys ...K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.m, k)
	}
}

const merchantFactsSQL = `
SELECT m.usage_version, coalesce((SELECT array_agg(me.name) FROM meters me WHERE me.merchant_id = m.id), '{}')
FROM merchants m WHERE m.id = $1`

// merchantFacts returns the merchant's facts, from memory or read now (and kept when keep).
func (s *Engine) merchantFacts(ctx context.Context, merchant string, now time.Time, keep bool) (*merchantFacts, error) {
	if f, ok := s.cache.merchants.get(merchant, now); ok {
		return f, nil
	}
	var names []string
	f := &merchantFacts{Meters: map[string]struct{}{}}
	if err := s.pool.QueryRow(ctx, merchantFactsSQL, merchant).Scan(&f.Version, &names); err != nil {
		return nil, fmt.Errorf("merchant usage facts: %w", err)
	}
	for _, n := range names {
		f.Meters[n] = struct{}{}
	}
	if keep {
		s.cache.merchants.put(map[string]*merchantFacts{merchant: f}, now)
	}
	return f, nil
}

// isMeter reports whether name is a meter of the merchant: a default meter, tool:{toolName} or
// one of its custom meters (the SQL rule of meterRule).
func (f *merchantFacts) isMeter(name string) bool {
	if name == "" {
		return false
	}
	if slices.Contains(domain.DefaultMeters, name) || (strings.HasPrefix(name, "tool:") && len(name) > len("tool:")) {
		return true
	}
	_, ok := f.Meters[name]
	return ok
}

// meterOf applies the mapping rule: the explicit meter (ok false when it is not a meter), else
// the actionType when it names a meter, else the plan's meter.
func (f *merchantFacts) meterOf(meter, actionType string, p *pairFacts) (string, bool) {
	switch {
	case meter != "":
		return meter, f.isMeter(meter)
	case f.isMeter(actionType):
		return actionType, true
	case p.PlanMeter != "":
		return p.PlanMeter, true
	}
	return store.DefaultPlanMeter, true
}

// periodOf is the counter period of an event at t: the live purchase's current period, otherwise
// the calendar month (periodRule in SQL).
func (p *pairFacts) periodOf(t time.Time) time.Time {
	if p.PurchaseStart != nil {
		return *p.PurchaseStart
	}
	return MonthStart(t)
}

// pairFactsSQL resolves pairs of (customer reference, product) as resolvePair does, with the
// versions the answer was read at. Unknown customers come back with an empty id.
const pairFactsSQL = `
WITH pairs AS (
  SELECT DISTINCT customer_ref, product_ref FROM unnest($2::text[], $3::text[]) AS t(customer_ref, product_ref)
)
SELECT pr.customer_ref, pr.product_ref, coalesce(c.id, ''), coalesce(c.usage_version, 0), mv.usage_version,
  (pr.product_ref = '' OR EXISTS (SELECT 1 FROM products p WHERE p.merchant_id = $1 AND p.id = pr.product_ref
                                  AND p.deleted_at IS NULL)),
  coalesce(pu.id, ''), coalesce(pu.status, ''), coalesce(pu.pause->>'behavior', ''), pu.current_period_start, pu.current_period_end,
  coalesce(pl.id, ''), coalesce(pl.type, ''), coalesce(pl.free_units, 0), pl.usage_limit, coalesce(pl.meter_name, ''),
  CASE WHEN pl.limits_per_seat AND pu.id IS NOT NULL THEN pu.quantity ELSE 1 END,
  coalesce(d.id, '')
FROM pairs pr
CROSS JOIN (SELECT usage_version FROM merchants WHERE id = $1) mv
CROSS JOIN LATERAL (SELECT coalesce(
    (SELECT cu.id FROM customers cu WHERE cu.id = pr.customer_ref AND cu.merchant_id = $1 AND cu.deleted_at IS NULL),
    (SELECT cu.id FROM customers cu WHERE cu.merchant_id = $1 AND cu.external_ref = pr.customer_ref
     AND cu.deleted_at IS NULL)) AS id) ci
LEFT JOIN customers c ON c.id = ci.id
LEFT JOIN LATERAL (SELECT p.id, p.status, p.pause, p.plan_id, p.current_period_start, p.current_period_end, p.quantity FROM purchases p
    WHERE p.customer_id = c.id AND p.product_id = pr.product_ref AND p.merchant_id = $1
    AND p.status IN ` + store.LiveStatuses + `
    ORDER BY p.created_at DESC, p.id DESC LIMIT 1) pu ON true
LEFT JOIN LATERAL (SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = pr.product_ref AND d.is_default
    AND d.deleted_at IS NULL) d ON true
LEFT JOIN plans pl ON pl.merchant_id = $1 AND pl.id = coalesce(pu.plan_id, d.id)`

// pairFacts resolves keys (all of one merchant), from memory where it can; what it reads is kept
// when keep. Pairs whose customer or product is unknown are left out: the full statements answer
// those with their errors.
func (s *Engine) pairFacts(ctx context.Context, merchant string, keys []pairKey, now time.Time, keep bool) (map[pairKey]*pairFacts, error) {
	out := make(map[pairKey]*pairFacts, len(keys))
	var customers, products []string
	for _, k := range keys {
		if _, done := out[k]; done {
			continue
		}
		if f, ok := s.cache.pairs.get(k, now); ok {
			out[k] = f
		} else {
			customers, products = append(customers, k.customer), append(products, k.product)
		}
	}
	if len(customers) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, pairFactsSQL, merchant, customers, products)
	if err != nil {
		return nil, fmt.Errorf("resolve usage pairs: %w", err)
	}
	defer rows.Close()
	found := make(map[pairKey]*pairFacts, len(customers))
	for rows.Next() {
		k, f := pairKey{merchant: merchant}, &pairFacts{}
		var productOK bool
		var status, typ, pause string
		if err := rows.Scan(&k.customer, &k.product, &f.CustomerID, &f.CustomerVersion, &f.MerchantVersion, &productOK,
			&f.PurchaseRef, &status, &pause, &f.PurchaseStart, &f.PurchaseEnd, &f.PlanRef, &typ, &f.FreeUnits, &f.Limit,
			&f.PlanMeter, &f.Seats, &f.DefaultPlanRef); err != nil {
			return nil, fmt.Errorf("resolve usage pairs: %w", err)
		}
		f.PurchaseStatus, f.PlanType, f.PauseBehavior = domain.PurchaseStatus(status), domain.PlanType(typ), domain.PauseBehavior(pause)
		if productOK && f.CustomerID != "" {
			found[k], out[k] = f, f
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve usage pairs: %w", err)
	}
	if keep {
		s.cache.pairs.put(found, now)
	}
	return out, nil
}

// resolved is one event's resolution from memory.
type resolved struct {
	key    pairKey
	facts  *pairFacts
	meter  string
	period time.Time
}

// limit is the limit of the event's counter (0 for none).
func (r resolved) limit() int64 { return r.facts.limitOn(r.meter) }

func (r resolved) recorded(id string, e Event) Recorded {
	return Recorded{Ref: id, CustomerRef: r.facts.CustomerID, ProductRef: e.ProductRef, Meter: r.meter, Units: e.Units,
		Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, PeriodStart: r.period}
}

// resolve resolves events from memory (reading what is missing); ok is false when any event is
// not plainly valid or the facts disagree on the merchant's version.
func (s *Engine) resolve(ctx context.Context, merchant string, events []Event) ([]resolved, bool, error) {
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
