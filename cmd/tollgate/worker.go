package main

import (
	"context"

	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/worker"
)

// startWorker starts the purchase worker on the shared clients and creates or updates the
// reconciliation schedule (--reconcile-every); the returned func stops the worker and lets
// running tasks finish.
func startWorker(ctx context.Context, d *deps) (func(), error) {
	w := worker.New(d.temporal, activities.New(d.store, processors.Split(d.payments, d.store.Pool)), worker.Options{})
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
	return w.Stop, nil
}
