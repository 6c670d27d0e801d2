package usage

import (
	"context"
	"fmt"
	"time"
)

// Limit checks on the fast path: planned from memory (limitPlan), and read together under load
// as single events are written together (group.go): checks of one merchant that arrive while its slots are busy queue, and then
// go as one statement that checks each one's versions and reads each one's counter.
// Each caller gets the state it would have read alone; a check whose facts moved is read by its
// caller alone, which takes the full statement as before.

// limitSlots is how many checks of one merchant may be read alone at once from this process
// while nothing is queued (slotQueue, admit.go). With one, a second caller always waited
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

// readLimitFast is LimitState on the fast path: planned from memory, and its counter read with
// both versions checked, alone when the merchant's slot is free, else in the next group.
// handled is false when the facts are not in memory or moved: readLimitFull answers then.
func (s *Engine) readLimitFast(ctx context.Context, merchant, customerRef, productRef, meter, actionType string) (LimitState, bool, error) {
	lp, ok, err := s.limitPlan(ctx, merchant, customerRef, productRef, meter, actionType)
	if err != nil {
		return LimitState{}, false, fmt.Errorf("limit state: %w", err)
	}
	if !ok {
		return LimitState{}, false, nil
	}
	st, handled, err := s.admitLimit(ctx, merchant, lp)
	if err != nil {
		return st, false, fmt.Errorf("limit state: %w", err)
	}
	return st, handled, nil
}

// admitLimit reads a planned check's counter alone when the merchant has a free slot, else in
// the next group of its checks.
func (s *Engine) admitLimit(ctx context.Context, merchant string, lp limitPlan) (LimitState, bool, error) {
	q := s.cache.limits.of(merchant, limitSlots)
	p := &groupedLimit{plan: lp, done: make(chan limitAnswer, 1)}
	if q.enter(p) {
		st, ok, err := s.readLimitAlone(ctx, merchant, lp)
		q.handOn(maxGroup, func(group []*groupedLimit) { s.readLimitGroup(merchant, group) })
		return st, ok, err
	}
	select {
	case a := <-p.done:
		if a.alone {
			return s.readLimitAlone(ctx, merchant, lp)
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

// readLimitGroup reads a group of checks in one statement and answers each of them.
func (s *Engine) readLimitGroup(merchant string, group []*groupedLimit) {
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

// readLimitAlone reads a planned check's counter by itself, if its facts are still current.
func (s *Engine) readLimitAlone(ctx context.Context, merchant string, lp limitPlan) (LimitState, bool, error) {
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
	res, ok, err := s.resolve(ctx, merchant, []Event{{CustomerRef: customerRef, ProductRef: productRef, Meter: meter,
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
