package main

import (
	"github.com/tollgate-billing/tollgate/activities"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/worker"
)

// startWorker starts the purchase worker on the shared clients; the returned func stops it and
// lets running tasks finish.
func startWorker(d *deps) (func(), error) {
	w := worker.New(d.temporal, activities.New(d.store, processors.Split(d.payments, d.store.Pool)), worker.Options{})
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Stop, nil
}
