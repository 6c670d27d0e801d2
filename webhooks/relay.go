package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Relay moves events from the outbox (the events table) to delivery workflows. Each pass claims
// events not yet dispatched, makes a delivery per endpoint that wants each, wakes the workflow
// of each endpoint that got deliveries (workflows.WebhookEndpointWorkflow, started if it is not
// running: it sends them in batches and hands each one that fails to a retry workflow of its
// own), and only then marks the events dispatched. A relay that dies between those steps leaves
// the events undispatched in Postgres, and the next pass, in this worker or another, wakes the
// endpoints again (the deliveries are made once; a woken endpoint with nothing new sends
// nothing): the outbox is what makes relaying durable, the workflows what make delivery durable.
type Relay struct {
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string          // workflows.TaskQueue when empty
	Backoff   []time.Duration // the deliveries' retry schedule; workflows.DefaultWebhookBackoff when nil
	// Every is the longest pause between passes when the outbox is empty; 5 s when zero. The
	// relay wakes at once when Postgres announces events written (store.EventsChannel), so the
	// poll only catches what was announced while its listening connection was down.
	Every time.Duration
	Log   *slog.Logger
}

const (
	relayBatch = 500
	// relayStarts is how many workflow starts or signals a pass has in flight: each is a round
	// trip to Temporal, and one at a time would make the relay the bottleneck of a burst of
	// events for many endpoints.
	relayStarts = 16
	pruneEvery  = time.Hour
)

// Run relays until ctx ends, and once an hour deletes the events past their retention. It passes
// when events are announced, each time its LISTEN is (re)made, and every Every otherwise.
func (r *Relay) Run(ctx context.Context) {
	every := r.Every
	if every == 0 {
		every = 5 * time.Second
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	listenCtx, stopListening := context.WithCancel(ctx)
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		r.Store.Listen(listenCtx, store.EventsChannel, store.Listener{Listening: poke, Notified: func(string) { poke() },
			Lost: func(err error) {
				log.Warn("webhook relay: listening for events failed; polling until it is back", "every", every, "error", err)
			}})
	}()
	defer func() { stopListening(); <-listened }()
	var pruned time.Time
	for ctx.Err() == nil {
		n, err := r.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("webhook relay", "error", err)
		}
		if time.Since(pruned) > pruneEvery {
			if n, err := r.Store.PruneEvents(ctx, time.Now()); err != nil {
				log.Warn("prune events", "error", err)
			} else {
				pruned = time.Now()
				if n > 0 {
					log.Info("pruned events past their retention", "events", n)
				}
			}
		}
		if n == relayBatch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(every):
		}
	}
}

// Pass relays one batch and answers how many events it took.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	deliveries, events, err := r.Store.ClaimEvents(ctx, relayBatch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	endpoints := map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(relayStarts)
	for _, d := range deliveries {
		if !endpoints[d.EndpointRef] {
			endpoints[d.EndpointRef] = true
			g.Go(func() error { return r.Wake(gctx, d.EndpointRef) })
		}
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(events), r.Store.MarkDispatched(ctx, events)
}

// Wake tells endpoint's workflow it has new deliveries, starting it if it is not running.
func (r *Relay) Wake(ctx context.Context, endpoint string) error {
	_, err := r.Temporal.SignalWithStartWorkflow(ctx, workflows.WebhookEndpointID(endpoint), workflows.SignalWebhooksPending,
		nil, client.StartWorkflowOptions{TaskQueue: r.taskQueue()}, workflows.WebhookEndpointWorkflow,
		workflows.WebhookEndpointInput{EndpointRef: endpoint, Backoff: r.Backoff})
	if err != nil {
		return fmt.Errorf("wake endpoint %s: %w", endpoint, err)
	}
	return nil
}

func (r *Relay) taskQueue() string {
	if r.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return r.TaskQueue
}

// Redeliver starts a new delivery workflow for each of deliveries (reopened by
// store.Redeliveries), beside any earlier one of the same event and endpoint.
func (r *Relay) Redeliver(ctx context.Context, deliveries []store.PendingDelivery) error {
	for _, d := range deliveries {
		id := workflows.WebhookDeliveryID(d.EventRef, d.EndpointRef) + "-r" + domain.RandomString(8)
		if err := r.Start(ctx, d, id); err != nil {
			return err
		}
	}
	return nil
}

// Start starts the delivery workflow of d under id; a workflow already started under id (open
// or closed) is left as it is.
func (r *Relay) Start(ctx context.Context, d store.PendingDelivery, id string) error {
	tq := r.taskQueue()
	// Eager start: when this process's worker polls tq on the same client (the worker command,
	// dev), the server hands the first workflow task back in the start's answer, saving a trip
	// through matching; otherwise it is an ordinary start.
	_, err := r.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, EnableEagerStart: true},
		workflows.WebhookDeliveryWorkflow, workflows.WebhookDeliveryInput{DeliveryID: d.ID, EndpointRef: d.EndpointRef,
			EventRef: d.EventRef, Backoff: r.Backoff})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start delivery %s: %w", id, err)
	}
	return nil
}
