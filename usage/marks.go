package usage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// Usage marks (issue 15): usage.threshold_reached when a counter reaches 80% of its limit and
// usage.limit_reached when it reaches the limit, each once per customer, product, meter, limit
// and period. The statement that adds units to a counter writes them, in the same transaction:
// the counter's value after the write (RETURNING) less the units the write added is its value
// before, and a mark is crossed when before < mark <= after. A counter row is locked by each
// write that adds to it, so of two writers crossing a mark at once only one sees the crossing;
// the dedupe key makes a second event impossible anyway. The limit comes from the facts the
// write already resolved (pairFacts, from memory on the fast paths), so a write costs no extra
// round trip, and one no limit applies to runs its statement without the INSERT (counterSQL).

// ThresholdPercent is the share of the limit at which usage.threshold_reached is sent (rounded
// up to a whole unit).
const ThresholdPercent = 80

// Mark is the object of the usage.threshold_reached and usage.limit_reached events.
type Mark struct {
	CustomerRef string    `json:"customerRef"`
	ProductRef  string    `json:"productRef"`
	Meter       string    `json:"meterName"`
	PeriodStart time.Time `json:"periodStart"`
	// Limit is the most units the period admits; Threshold the units at which this event is
	// sent (Limit for usage.limit_reached); Used the units counted once the event that crossed
	// it was recorded.
	Limit     int64 `json:"limit"`
	Threshold int64 `json:"threshold"`
	Used      int64 `json:"used"`
}

// markEvents is the INSERT of the events of the marks crossed by counter writes. src is a
// relation of the writes: customer_id, product_id, meter_name, period_start, used (the counter
// after the write), units (what the write added) and lim (the limit; 0 or NULL for none). merchant
// and mode are the SQL of the merchant's id and the mode of the key that wrote. It writes the
// object as Mark marshals.
func markEvents(src, merchant, mode string) string {
	return fmt.Sprintf(`INSERT INTO events (id, merchant_id, mode, type, object_type, object_id, object, dedupe_key)
  SELECT tollgate_timed_ref('evt'), %[2]s, %[3]s, mk.type, 'usage', x.customer_id,
    jsonb_build_object('customerRef', x.customer_id, 'productRef', x.product_id, 'meterName', x.meter_name,
      'periodStart', regexp_replace(to_char(x.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.?0+$', '') || 'Z',
      'limit', x.lim, 'threshold', mk.mark, 'used', x.used),
    concat_ws(':', mk.type, x.customer_id, x.product_id, x.meter_name, (extract(epoch FROM x.period_start) * 1000000)::bigint, x.lim)
  FROM %[1]s x CROSS JOIN LATERAL (VALUES ('%[4]s', x.lim - (x.lim / 100) * %[6]d - (x.lim %% 100) * %[6]d / 100),
                                         ('%[5]s', x.lim)) AS mk(type, mark)
  WHERE x.lim > 0 AND x.used - x.units < mk.mark AND x.used >= mk.mark
  ON CONFLICT (merchant_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		src, merchant, mode, domain.EventUsageThresholdReached, domain.EventUsageLimitReached, 100-ThresholdPercent)
}

// counterSQL is a statement that adds to usage counters in two forms: marked, whose last CTE is
// markEvents, and plain, without it, for a write no limit applies to (markEvents would write
// nothing), so that the usual write neither plans nor opens the events table. The marked form's
// arguments are the plain one's followed by markArgs more, which only markEvents reads.
type counterSQL struct {
	plain, marked string
	markArgs      int
}

// withMarks builds a counterSQL from head (WITH and the CTEs, the last one left open), the
// arguments of markEvents, and tail (the final SELECT).
func withMarks(head string, markArgs int, src, merchant, mode, tail string) counterSQL {
	return counterSQL{
		plain:    head + "\n)\n" + tail,
		marked:   head + "\n), marks AS (\n  " + markEvents(src, merchant, mode) + "\n)\n" + tail,
		markArgs: markArgs,
	}
}

// of answers the statement and its arguments for a write that crosses marks only when limited.
func (c counterSQL) of(limited bool, args ...any) (string, []any) {
	if limited {
		return c.marked, args
	}
	return c.plain, args[:len(args)-c.markArgs]
}

// anyLimit tells whether any of limits is a limit (> 0).
func anyLimit(limits []int64) bool {
	return slices.ContainsFunc(limits, func(l int64) bool { return l > 0 })
}

// limitOn is the limit of the pair's use of meter (LimitState.EffectiveLimit), 0 for none.
func (p *pairFacts) limitOn(meter string) int64 {
	st := p.limitState(meter)
	if l := st.EffectiveLimit(); l != nil {
		return *l
	}
	return 0
}

// limitState is the state of a limit check of the pair on meter, but its period and counter.
func (p *pairFacts) limitState(meter string) LimitState {
	st := LimitState{CustomerRef: p.CustomerID, PurchaseRef: p.PurchaseRef, PurchaseStatus: p.PurchaseStatus,
		PauseBehavior: p.PauseBehavior, PlanRef: p.PlanRef, DefaultPlanRef: p.DefaultPlanRef, PlanType: p.PlanType,
		PlanMeter: p.PlanMeter, FreeUnits: p.FreeUnits, Limit: p.Limit, Seats: p.Seats, Meter: meter}
	if st.PlanMeter == "" {
		st.PlanMeter = store.DefaultPlanMeter
	}
	return st
}

// limitKey names whose limit: a customer's (by id) use of a product on a meter.
type limitKey struct{ customer, product, meter string }

// limitsOf answers the limits of events for the full statements, which resolve the events in
// SQL: from the facts in memory or read now, keyed by customer id. What it reads is not kept:
// the fast path keeps only what it reads itself. An event the facts do not resolve (its
// statement refuses it) has none.
func (s *Engine) limitsOf(ctx context.Context, merchant string, events []Event) (map[limitKey]int64, error) {
	mf, err := s.merchantFacts(ctx, merchant, time.Now(), false)
	if err != nil {
		return nil, err
	}
	keys := make([]pairKey, len(events))
	for i, e := range events {
		keys[i] = pairKey{merchant, e.CustomerRef, e.ProductRef}
	}
	facts, err := s.pairFacts(ctx, merchant, keys, time.Now(), false)
	if err != nil {
		return nil, err
	}
	out := make(map[limitKey]int64, len(events))
	for i, e := range events {
		f := facts[keys[i]]
		if f == nil {
			continue
		}
		if meter, ok := mf.meterOf(e.Meter, e.ActionType, f); ok {
			out[limitKey{f.CustomerID, e.ProductRef, meter}] = f.limitOn(meter)
		}
	}
	return out, nil
}
