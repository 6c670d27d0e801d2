package main

import (
	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/worker"
)

// startWorker starts the purchase worker on the shared clients; the returned func stops it and
// lets running tasks finish.
func startWorker(d *deps) (func(), error) {
	w := worker.New(d.temporal, &activities.Activities{Store: d.store, Payments: d.payments,
		Sandbox: sandbox.New(d.store.Pool)}, worker.Options{})
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Stop, nil
}
