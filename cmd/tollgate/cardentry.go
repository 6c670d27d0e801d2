package main

import (
	"errors"
	"strings"
)

// checkCardEntry refuses a Stripe setup the hosted pages cannot take cards with safely. Without
// a publishable key there is no Stripe Payment Element, and a typed card number would have to
// pass through this server to Stripe; the pages take typed numbers only for the sandbox. The
// keys' values are never part of the message.
func (c config) checkCardEntry() error {
	if c.StripeSecretKey == "" {
		return nil // the sandbox processor: its test-card form is the card entry
	}
	pk := c.StripePublishable
	switch {
	case pk == "":
		return errors.New("STRIPE_SECRET_KEY is set but STRIPE_PUBLISHABLE_KEY is not: the checkout and portal " +
			"pages take cards only through Stripe's Payment Element, which needs the publishable key (pk_…). " +
			"Set --stripe-publishable-key or STRIPE_PUBLISHABLE_KEY, or unset the secret key to run with sandbox keys only")
	case !strings.HasPrefix(pk, "pk_"):
		return errors.New("STRIPE_PUBLISHABLE_KEY is not a publishable key (pk_test_… or pk_live_…); it is sent to " +
			"every browser, so a secret key must never be put there")
	case stripeLive(c.StripeSecretKey) != strings.HasPrefix(pk, "pk_live_"):
		return errors.New("STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY are of different modes (one live, one test): " +
			"use the pair from the same Stripe dashboard mode")
	}
	return nil
}

// stripeLive reports whether a Stripe secret or restricted key is a live-mode one.
func stripeLive(secret string) bool {
	return strings.HasPrefix(secret, "sk_live_") || strings.HasPrefix(secret, "rk_live_")
}
