// Package usage is Tollgate's usage engine: it records usage events, checks limits, consumes
// units atomically and answers the units a period bills. Events go straight to Postgres (never
// one workflow per event): an event's row and its period counter change in one transaction.
//
// What happens to an event (Record: one; RecordMany: a batch, all or nothing):
//
//	resolve    the facts, from memory: customer id, live purchase      ── not sure ──┐
//	   │       and period, plan, meter, limit (what is missing is read)              │
//	   ├─ one event ─ admit: a slot of its merchant free?                            │
//	   │                yes: write it alone, one statement             ── not sure ──┤
//	   │                no:  queue; go in the next group, one statement ─ not sure ──┤
//	   └─ a batch ─── write: COPY the events, add the counters by id   ── not sure ──┤
//	   ▼                                                                             ▼
//	answered                                   full: resolve and write in SQL, one statement
//	                                           (a batch: one transaction); words every refusal
//
// "Not sure" is a fact not in memory or not plainly valid, a version moved, an idempotency key
// already taken, a remembered counter id gone, a conflict between batches. The files follow the
// steps: resolve.go, admit.go, write.go, group.go, counters.go (with marks.go), full.go; limit
// checks and consume are in limits.go and limits_read.go, period-end totals in bill.go.
//
// The fast/full choice is made in one place (fastOrFull): the fast path answers only when it is
// sure, and everything else goes to the full statements, which word every refusal and answer
// exactly as the fast path would (TestUsageFastPathMatchesFullStatements holds them together).
// Limit checks (LimitState) take the same steps: resolve, admit (alone or in a group read),
// read the counter; Consume is one statement, conditional on the limit.
//
// Why each step is there:
//   - resolve from memory: a customer reference and product resolve to facts that rarely change,
//     and resolving them in SQL costs a dozen lookups (about 40 µs a pair on a batch). The facts
//     carry their customer's and merchant's usage_version and every write checks both in its own
//     snapshot, so memory is never trusted on its own (resolve.go).
//   - admit, group commit: a single event alone cost about 145 µs of Postgres CPU (one statement,
//     one commit); written in groups, 50 µs per event in all for groups of 11, 31 µs for groups of
//     30. Nothing waits on a timer: groups form only when the merchant's slots are busy; two slots,
//     not one, because one slot made a second lone caller wait (4,057 against 5,797 req/s at 2
//     clients) (admit.go, group.go).
//   - a batch by COPY: INSERT … SELECT cost about five times raw COPY per event (full.go).
//   - counters by id: the upsert costs about 5 µs per counter, an UPDATE by the remembered id
//     about half; the merchant's counter lock keeps concurrent batches from queueing row by row
//     (bulk ingest fell from 80,000 to 36,000 events/s without it), and at most
//     max(4, GOMAXPROCS) batches at once keep counter updates HOT (127,000 against 82,000
//     events/s with 8) (counters.go).
//   - usage marks: a write some limit applies to also writes usage.threshold_reached and
//     usage.limit_reached in its statement; a write without a limit runs the plain statement,
//     which neither plans nor opens the events table (marks.go).
//
// Which meter an event counts on (the mapping rule, documented in the API):
//  1. an explicit meterName: a default meter, a tool:{toolName} meter or one of the merchant's
//     custom meters (anything else is refused);
//  2. otherwise the actionType, when it names such a meter ("tokens", "tool:search", a custom one);
//  3. otherwise the meter of the plan that governs the customer's use of the product (the live
//     purchase's plan, else the product's default plan);
//  4. otherwise store.DefaultPlanMeter ("api_requests").
//
// Only events with outcome "success" count toward the counter; the others are stored only.
//
// Which period a counter belongs to: the live purchase's current period, whatever the event's
// timestamp (a late event, or one stamped before a sandbox test clock that runs ahead, counts in
// the period it is recorded in); without a live purchase the calendar month (UTC) of the event's
// timestamp. The renewal bills what its period's counters hold when it runs and marks it billed
// (BillPeriod), so units recorded while it runs count with the next bill.
package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/metrics"
)

// Engine records usage events and reads limits for every merchant of one database. Its facts in
// memory, its queues and its counts of paths live as long as it does: a process makes one and
// shares it.
type Engine struct {
	pool  *pgxpool.Pool
	cache cache
}

// New makes an Engine over pool.
func New(pool *pgxpool.Pool) *Engine { return &Engine{pool: pool} }

// Record records one event: stored and counted, or, for a repeated idempotency key, counted
// once and answered with the original reference; an invalid event (unknown customer, product
// or meter) is refused with an error that names it.
func (s *Engine) Record(ctx context.Context, merchant string, e Event) (Recorded, error) {
	out, err := s.record(ctx, merchant, []Event{e})
	if err != nil {
		return Recorded{}, err
	}
	return out[0], nil
}

// RecordMany records events for merchant atomically: either every event is stored and counted
// (a repeated idempotency key counts once and answers with the original reference) or, when
// one is invalid (unknown customer, product or meter), nothing is and the error names it.
func (s *Engine) RecordMany(ctx context.Context, merchant string, events []Event) ([]Recorded, error) {
	if len(events) == 0 {
		return nil, nil
	}
	return s.record(ctx, merchant, events)
}

// record takes events (one or more) down the pipeline drawn above.
func (s *Engine) record(ctx context.Context, merchant string, events []Event) ([]Recorded, error) {
	now := time.Now()
	ids := make([]string, len(events))
	for i := range ids {
		ids[i] = domain.NewTimedRef(domain.PrefixUsage, now)
	}
	out, err := fastOrFull(&s.cache,
		func() ([]Recorded, bool, error) { return s.recordFast(ctx, merchant, events, ids) },
		func() ([]Recorded, error) { return s.recordFull(ctx, merchant, events, ids) })
	if err == nil {
		metrics.UsageEvents.Add(float64(len(out)))
	}
	return out, err
}

// recordFast resolves events from memory, then admits one event (alone or in a group) or
// writes a batch whole. handled is false whenever it cannot be sure.
func (s *Engine) recordFast(ctx context.Context, merchant string, events []Event, ids []string) ([]Recorded, bool, error) {
	res, ok, err := s.resolve(ctx, merchant, events)
	if !ok || err != nil {
		return nil, false, err
	}
	if len(events) == 1 {
		r, handled, err := s.admit(ctx, merchant, events[0], ids[0], res[0])
		return []Recorded{r}, handled, err
	}
	return s.writeBatch(ctx, merchant, events, ids, res)
}

// LimitState reads the state of customerRef's use of productRef on a meter chosen by the
// mapping rule of usage events (explicit meter, else actionType when it names a meter, else the
// plan's meter). An unknown customer or product is RESOURCE_NOT_FOUND, an unknown meter
// INVALID_FIELD.
func (s *Engine) LimitState(ctx context.Context, merchant, customerRef, productRef, meter, actionType string) (LimitState, error) {
	return fastOrFull(&s.cache,
		func() (LimitState, bool, error) {
			return s.readLimitFast(ctx, merchant, customerRef, productRef, meter, actionType)
		},
		func() (LimitState, error) {
			return s.readLimitFull(ctx, merchant, customerRef, productRef, meter, actionType)
		})
}

// fastOrFull is the one place the fast/full choice is made: fast answers when it is sure
// (handled, or an error it met), otherwise full does. It counts which path answered (Paths).
func fastOrFull[T any](c *cache, fast func() (T, bool, error), full func() (T, error)) (T, error) {
	if !c.off {
		v, handled, err := fast()
		if handled {
			c.fast.Add(1)
		}
		if handled || err != nil {
			return v, err
		}
	}
	c.full.Add(1)
	return full()
}

// Paths reports how many usage calls (events or batches recorded, limits read) the fast path
// answered and how many took the full statements, since the engine was made.
func (s *Engine) Paths() (fast, full uint64) { return s.cache.fast.Load(), s.cache.full.Load() }

// OutcomeSuccess is the outcome that counts toward limits and billing.
const OutcomeSuccess = "success"

// MaxBulkEvents caps one bulk call.
const MaxBulkEvents = 1000

// Event is one event to record, as the API validated it.
type Event struct {
	CustomerRef    string // cus_ reference or the merchant's externalRef
	ProductRef     string // optional
	Meter          string // explicit meter; empty applies the mapping rule
	ActionType     string
	Units          int64
	Outcome        string
	IdempotencyKey string
	OccurredAt     time.Time
	Metadata       []byte // a JSON object, or nil
}

// Recorded is the answer for one event: its reference (the original one for a repeated
// idempotency key) and where it was counted.
type Recorded struct {
	Ref            string    `json:"reference"`
	Duplicate      bool      `json:"duplicate"`
	CustomerRef    string    `json:"customerRef"`
	ProductRef     string    `json:"productRef,omitempty"`
	Meter          string    `json:"meterName"`
	Units          int64     `json:"units"`
	Outcome        string    `json:"outcome"`
	IdempotencyKey string    `json:"idempotencyKey"`
	OccurredAt     time.Time `json:"timestamp"`
	PeriodStart    time.Time `json:"periodStart"`
}

// EventError says which event of a batch was refused, so the API can name it.
type EventError struct {
	Index int
	Err   *domain.Error
}

func (e *EventError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }
func (e *EventError) Unwrap() error { return e.Err }

// MonthStart is the calendar month (UTC) a usage event without a purchase period counts in.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}
