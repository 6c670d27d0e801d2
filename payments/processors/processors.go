// Package processors picks the payment processor a process runs with. It sits apart from
// package payments because it imports both implementations, which import payments.
package processors

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

// Config holds what either processor needs.
type Config struct {
	StripeSecretKey  string        // set → Stripe; empty → the sandbox (DESIGN.md "Payments")
	StripeBackendURL string        // optional override, e.g. stripe-mock
	Pool             *pgxpool.Pool // the sandbox keeps its ledger here
}

// New returns Stripe when a secret key is set, else the sandbox.
func New(cfg Config) payments.Processor {
	if cfg.StripeSecretKey != "" {
		return stripe.New(stripe.Config{SecretKey: cfg.StripeSecretKey, BackendURL: cfg.StripeBackendURL})
	}
	return sandbox.New(cfg.Pool)
}
