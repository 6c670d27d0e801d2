package usage

import (
	"context"
	"time"
)

// Limit checks are read together under load, as single events are written together
// (group.go): checks of one merchant that arrive while its slots are busy queue, and then
// go as one statement that checks each one's versions and reads each one's counter.
// Each caller gets the state it would have read alone; a check whose facts moved is read by its
// caller alone, which takes the full statement as before.

// limitSlots is how many checks of one merchant may be read alone at once from this process
// while nothing is queued (slotQueue, coalesce.go). With one, a second caller always waited
// for the first: at 2 clients, 9,322 against 13,609 checks/s, p99 0.55 against 0.43 ms.
const limitSlots = 2

// groupedLimit is a check waiting in a group, and where its answer goes.
type groupedLimit struct {
	plan limitPlan
	done chan limitAnswer // buffered: the group never blocks on a caller that gave up
}

// limitAnswer is a grouped check's answer; alone asks the caller to read it by itself.
type limitAnswer struct {
	state LimitState
	alone bool
}

// limitStateCoalesced is LimitState on the fast path: planned from memory, and its counter read
// with both versions checked, alone when the merchant's slot is free, else in the next group.
func (s *Engine) limitStateCoalesced(ctx context.Context, merchant, customerRef, productRef, meter, actionType string) (LimitState, bool, error) {
	lp, ok, err := s.limitPlan(ctx, merchant, customerRef, productRef, meter, actionType)
	if !ok || err != nil {
		return LimitState{}, false, err
	}
	q := s.cache.limits.of(merchant, limitSlots)
	p := &groupedLimit{plan: lp, done: make(chan limitAnswer, 1)}
	if q.enter(p) {
		st, ok, err := s.readLimit(ctx, merchant, lp)
		q.handOn(maxGroup, func(group []*groupedLimit) { s.readLimits(merchant, group) })
		return st, ok, err
	}
	select {
	case a := <-p.done:
		if a.alone {
			return s.readLimit(ctx, merchant, lp)
		}
		return a.state, true, nil
	case <-ctx.Done():
		return LimitState{}, false, ctx.Err()
	}
}

// limitsGroupSQL reads the counters of a group of checks, each with whether its customer's
// and merchant's versions are still those its facts were read at, in the order given.
const limitsGroupSQL = `
SELECT coalesce((SELECT c.usage_version FROM customers c WHERE c.id = v.customer) = v.version, false)
       AND coalesce((SELECT usage_version FROM merchants WHERE id = $1) = $2, false),
  coalesce((SELECT units FROM usage_counters uc WHERE uc.merchant_id = $1 AND uc.customer_id = v.customer
            AND uc.product_id = v.product AND uc.meter_name = v.meter AND uc.period_start = v.period), 0)
FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[]) WITH ORDINALITY
     AS v(customer, version, product, meter, period, ord)
ORDER BY v.ord`

// readLimits reads a group of checks in one statement and answers each of them.
func (s *Engine) readLimits(merchant string, group []*groupedLimit) {
	if len(group) == 1 {
		group[0].done <- limitAnswer{alone: true}
		return
	}
	n := len(group)
	customers, products, meters := make([]string, n), make([]string, n), make([]string, n)
	versions, periods := make([]int64, n), make([]time.Time, n)
	for i, p := range group {
		st := p.plan.state
		customers[i], versions[i], products[i], meters[i], periods[i] = p.plan.facts.CustomerID, p.plan.facts.CustomerVersion,
			st.ProductRef, st.Meter, st.PeriodStart
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, limitsGroupSQL, merchant, group[0].plan.facts.MerchantVersion, customers, versions,
		products, meters, periods)
	if err != nil { // each caller meets the error alone
		for _, p := range group {
			p.done <- limitAnswer{alone: true}
		}
		return
	}
	i := 0
	for ; rows.Next() && i < n; i++ {
		var current bool
		st := group[i].plan.state
		if err := rows.Scan(&current, &st.Used); err != nil {
			break
		}
		if !current {
			s.cache.forget(merchant, group[i].plan.key)
			group[i].done <- limitAnswer{alone: true}
			continue
		}
		s.cache.groupedReads.Add(1)
		group[i].done <- limitAnswer{state: st}
	}
	rows.Close()
	for ; i < n; i++ { // the read broke off: the rest are read alone
		group[i].done <- limitAnswer{alone: true}
	}
}
