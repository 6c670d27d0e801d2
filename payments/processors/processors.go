// Package processors picks the payment processor a process runs with, and the one each key mode
// uses. It sits apart from package payments because it imports both implementations, which
// import payments.
package processors

import (
	"context"
	"errors"

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

// ErrNoLive answers a live key on a deployment whose only processor is the sandbox: live money
// needs Stripe, and a live purchase never settles in the sandbox.
var ErrNoLive = errors.New("live keys need Stripe, and this deployment has no Stripe secret key (STRIPE_SECRET_KEY): " +
	"use a sandbox key, or configure Stripe")

// ByMode is the processor of each key mode. Sandbox keys always use the sandbox, whatever else the
// deployment is configured with; live keys use the live processor (Stripe), which a deployment
// without a Stripe key does not have.
type ByMode struct {
	Sandbox payments.Processor
	Live    payments.Processor // nil: live mode is not available
	// Merchants are the merchants' own Stripe accounts, which serve their live mode in place
	// of Live (ForMerchant); nil: every merchant uses Live.
	Merchants *Accounts
}

// Split sorts a deployment's processor (from New) into modes: a real processor is the live one,
// beside a sandbox keeping its ledger in pool; the sandbox (or nil) serves sandbox keys alone.
func Split(p payments.Processor, pool *pgxpool.Pool) ByMode {
	if p == nil || p.Name() == "sandbox" {
		if p == nil {
			p = sandbox.New(pool)
		}
		return ByMode{Sandbox: p}
	}
	return ByMode{Sandbox: sandbox.New(pool), Live: p}
}

// For is the processor that moves the money of a mode; live mode without a live processor is
// ErrNoLive.
func (m ByMode) For(sandbox bool) (payments.Processor, error) {
	if sandbox {
		return m.Sandbox, nil
	}
	if m.Live == nil {
		return nil, ErrNoLive
	}
	return m.Live, nil
}

// ForMerchant is For for one merchant: its live mode uses its own Stripe account when it has
// one (Merchants), else Live. publishable is the merchant's own publishable key, "" when it uses
// the deployment's. A merchant whose own account this process cannot open gets an error, never
// the deployment's account: its customers' cards and payments are in its own.
func (m ByMode) ForMerchant(ctx context.Context, merchant string, sandbox bool) (p payments.Processor, publishable string, err error) {
	if sandbox {
		return m.Sandbox, "", nil
	}
	acc, own, err := m.Merchants.Of(ctx, merchant)
	switch {
	case err != nil:
		return nil, "", err
	case own:
		return acc.Processor, acc.PublishableKey, nil
	}
	p, err = m.For(false)
	return p, "", err
}
