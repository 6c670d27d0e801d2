package main

import (
	"context"
	"slices"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/webhooks"
	"github.com/tollgate-billing/tollgate/worker"
	"github.com/tollgate-billing/tollgate/workflows"
)

// startWorker starts the purchase worker on the shared clients, creates or updates the
// reconciliation schedule (--reconcile-every) and runs the webhook relay (events outbox →
// delivery workflows, --webhook-retries); the returned func stops the relay and the worker and
// lets running tasks finish.
func startWorker(ctx context.Context, d *deps) (func(), error) {
	modes := processors.Split(d.payments, d.store.Pool)
	modes.Merchants = d.accounts
	if sb, ok := modes.Sandbox.(*sandbox.Processor); ok { // reaches a handler only beside the API (dev)
		sb.SetWebhooks(d.sandboxHooks)
	}
	w := worker.New(d.temporal, activities.New(d.store, modes), worker.Options{})
	if err := w.Start(); err != nil {
		return nil, err
	}
	err := starter.New(d.temporal, d.store).EnsureReconcileSchedule(ctx, starter.ReconcileSchedule{
		Every: d.cfg.ReconcileEvery, Window: d.cfg.ReconcileWindow})
	if err != nil {
		w.Stop()
		return nil, err
	}
	if d.cfg.ReconcileEvery > 0 {
		d.log.Info("reconciliation scheduled", "every", d.cfg.ReconcileEvery, "window", d.cfg.ReconcileWindow)
	}
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relay := &webhooks.Relay{Store: d.store, Temporal: d.temporal, Log: d.log}
	if !slices.Equal(d.cfg.WebhookRetries, workflows.DefaultWebhookBackoff) {
		relay.Backoff = d.cfg.WebhookRetries // the default stays out of every workflow's input
	}
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		relay.Run(relayCtx)
	}()
	return func() {
		stopRelay()
		<-relayed
		w.Stop()
	}, nil
}
