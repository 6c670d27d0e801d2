// Package workflows holds the purchase lifecycle workflow: deterministic code only. It imports
// nothing that does I/O; everything it does to the world goes through the Activities interface.
package workflows

import (
	"time"
	_ "time/tzdata" // billing dates on the customer's calendar, the same on every worker

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// PeriodsPerRun bounds the history: after this many period boundaries the workflow continues
// as new (earlier when the server suggests it).
const PeriodsPerRun = 12

// EndedRetention is how long an ended purchase's workflow stays open: it still answers queries,
// refunds and the test clock, and the API gets a clear refusal for anything else.
const EndedRetention = 30 * 24 * time.Hour

// MaxClockAdvance bounds one advance-clock call so a single update plays a bounded history.
const MaxClockAdvance = 2 * 366 * 24 * time.Hour

// Purchase is the workflow of one purchase, from activation to its end (DESIGN.md "The
// purchase lifecycle").
func Purchase(ctx workflow.Context, in PurchaseInput) (PurchaseResult, error) {
	p, err := newPurchase(ctx, in)
	if err != nil {
		return PurchaseResult{}, err
	}
	return p.run(ctx)
}

type purchase struct {
	state  State
	fresh  bool // a new purchase rather than a continued run
	done   bool // retention over: the run loop returns
	mu     workflow.Mutex
	wake   workflow.Channel // update handlers nudge the run loop to recompute its timer
	cancel workflow.ReceiveChannel
	react  workflow.ReceiveChannel
	log    log.Logger
	// events carries payment-changed signals; a coroutine of their own applies them
	// (processor_events.go), busy while it does.
	events     workflow.ReceiveChannel
	eventsBusy bool
}

// newPurchase restores or creates the state and registers every message handler, before the
// first blocking call so no early message is lost.
func newPurchase(ctx workflow.Context, in PurchaseInput) (*purchase, error) {
	p := &purchase{
		mu:     workflow.NewMutex(ctx),
		wake:   workflow.NewBufferedChannel(ctx, 1),
		cancel: workflow.GetSignalChannel(ctx, SignalCancelRenewal),
		react:  workflow.GetSignalChannel(ctx, SignalReactivateRenewal),
		log:    workflow.GetLogger(ctx),
		events: workflow.GetSignalChannel(ctx, SignalPaymentChanged),
	}
	if in.State != nil {
		p.state = *in.State
	} else {
		p.fresh = true
		p.state = State{
			PurchaseRef: in.PurchaseRef, MerchantRef: in.MerchantRef, CustomerRef: in.CustomerRef,
			Plan: in.Plan, Sandbox: in.Sandbox, PreviousPurchaseRef: in.PreviousPurchaseRef, TimeZone: in.TimeZone,
			Quantity: in.Quantity, Status: domain.PurchasePending, StartedAt: p.now(ctx),
		}
	}
	p.state.Runs++
	p.state.RunPeriods = 0
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) { return p.state, nil }); err != nil {
		return nil, err
	}
	p.listenPaymentChanges(ctx)
	return p, p.registerUpdates(ctx)
}

// run plays the lifecycle: activate once, then wait for the next due event (period end, trial
// end, dunning retry, grace end, end of retention) racing the message channels.
func (p *purchase) run(ctx workflow.Context) (PurchaseResult, error) {
	if p.fresh {
		if err := p.locked(ctx, p.activate); err != nil {
			return PurchaseResult{}, err
		}
	}
	p.syncSearchAttributes(ctx)
	for !p.done {
		if !p.eventDue(ctx) {
			if p.shouldContinueAsNew(ctx) {
				if can, err := p.continueAsNew(ctx); can || err != nil {
					return PurchaseResult{}, err
				}
				continue
			}
			p.waitForEventOrMessage(ctx)
			continue
		}
		if err := p.lockedIdle(ctx, p.step); err != nil {
			return PurchaseResult{}, err
		}
	}
	p.drainSignals(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && p.eventsIdle() }); err != nil {
		return PurchaseResult{}, err
	}
	return PurchaseResult{State: p.state}, nil
}

// locked runs a lifecycle step holding the mutex: steps and update handlers interleave at
// activity calls, and each must see and leave a consistent state.
func (p *purchase) locked(ctx workflow.Context, fn func(workflow.Context) error) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	return fn(ctx)
}

// now is the purchase's clock: workflow time moved forward by the test clock.
func (p *purchase) now(ctx workflow.Context) time.Time {
	return workflow.Now(ctx).Add(p.state.ClockOffset).UTC()
}

// location is the time zone whose calendar the billing dates follow (State.Location).
func (p *purchase) location() *time.Location { return p.state.Location() }

// Location is the time zone whose calendar the billing dates follow: the customer's, or UTC
// when it has none. The zone database is built in (time/tzdata), so a worker without one on
// its system still computes the same dates as the others.
func (s State) Location() *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil { // the API accepts only zones it can load; a zone removed since falls back
		return time.UTC
	}
	return loc
}

// stamp is now truncated to whole seconds, for times that become Postgres keys.
func (p *purchase) stamp(ctx workflow.Context) time.Time { return p.now(ctx).Truncate(time.Second) }

// eventDue reports whether the next lifecycle event is due on the purchase's clock.
func (p *purchase) eventDue(ctx workflow.Context) bool {
	next := p.nextEventAt()
	return !next.IsZero() && !next.After(p.now(ctx))
}

// waitForEventOrMessage sleeps until the next event, a signal, or a nudge from an update.
func (p *purchase) waitForEventOrMessage(ctx workflow.Context) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	sel := workflow.NewSelector(ctx)
	if next := p.nextEventAt(); !next.IsZero() {
		timer := workflow.NewTimerWithOptions(timerCtx, next.Sub(p.now(ctx)), workflow.TimerOptions{Summary: p.nextEventName()})
		sel.AddFuture(timer, func(workflow.Future) {})
	}
	sel.AddReceive(p.cancel, func(c workflow.ReceiveChannel, _ bool) {
		var in CancelRenewalInput
		c.Receive(ctx, &in)
		p.onCancelSignal(ctx, in)
	})
	sel.AddReceive(p.react, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		p.onReactivateSignal(ctx)
	})
	sel.AddReceive(p.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.Select(ctx)
}

// nudge wakes the run loop so it recomputes its timer after an update changed the state.
func (p *purchase) nudge() { p.wake.SendAsync(struct{}{}) }

func (p *purchase) shouldContinueAsNew(ctx workflow.Context) bool {
	return p.state.RunPeriods >= PeriodsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// continueAsNew hands the state to a new run once pending signals are applied and running
// update handlers are done. It gives up (can=false) when an event falls due meanwhile (an
// advance-clock update waits for the run loop, so the loop must not wait for it).
func (p *purchase) continueAsNew(ctx workflow.Context) (can bool, err error) {
	p.drainSignals(ctx)
	if err := workflow.Await(ctx, func() bool {
		return (workflow.AllHandlersFinished(ctx) && p.eventsIdle()) || p.eventDue(ctx)
	}); err != nil {
		return false, err
	}
	if p.eventDue(ctx) || p.cancel.Len() > 0 || p.react.Len() > 0 || !p.eventsIdle() {
		return false, nil
	}
	next := p.state
	return true, workflow.NewContinueAsNewError(ctx, Purchase, PurchaseInput{
		PurchaseRef: next.PurchaseRef, MerchantRef: next.MerchantRef, CustomerRef: next.CustomerRef,
		Plan: next.Plan, Sandbox: next.Sandbox, State: &next,
	})
}

// drainSignals applies signals that arrived but were not received yet.
func (p *purchase) drainSignals(ctx workflow.Context) {
	for {
		var in CancelRenewalInput
		if !p.cancel.ReceiveAsync(&in) {
			break
		}
		p.onCancelSignal(ctx, in)
	}
	for p.react.ReceiveAsync(nil) {
		p.onReactivateSignal(ctx)
	}
}
