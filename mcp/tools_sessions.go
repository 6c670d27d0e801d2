package mcp

import (
	"context"
	"fmt"
	"time"
)

var returnURLParam = param{name: "returnUrl", typ: tString, extra: map[string]any{"format": "uri"},
	desc: "Absolute http(s) URL the customer is sent back to afterwards."}

func sessionTools() []tool {
	return []tool{
		{name: "create_checkout_session", title: "Create a checkout link",
			desc: "Create a hosted checkout page for a customer to buy a product's plan (the default plan when planRef is " +
				"omitted). Answers the URL to send the customer; the purchase starts when they pay.",
			params: []param{customerRef(true), productRef(true), planRef(false, "The plan to buy (pln_…); default: the product's default plan."), returnURLParam},
			run:    createCheckoutSession},
		{name: "create_customer_session", title: "Create a customer portal link",
			desc: "Create a link to the customer's self-service billing portal, where they manage payment methods, see " +
				"invoices and payments, and cancel or reactivate renewals. The link expires after 15 minutes.",
			params: []param{customerRef(true), returnURLParam},
			run:    createCustomerSession},
	}
}

type sessionView struct {
	Reference   string    `json:"reference"`
	CustomerRef string    `json:"customerRef"`
	URL         string    `json:"url"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func createCheckoutSession(ctx context.Context, c *call, a args) (string, any, error) {
	var s sessionView
	out, err := c.post(ctx, path("checkout-sessions"), a.body("customerRef", "productRef", "planRef", "returnUrl"), &s)
	if err != nil {
		return "", nil, err
	}
	who := customerName(ctx, c, s.CustomerRef)
	return fmt.Sprintf("Here's the checkout URL for %s:\n\n%s\n\nSend this link to the customer to complete their purchase.",
		lowerFirst(who), s.URL), out, nil
}

func createCustomerSession(ctx context.Context, c *call, a args) (string, any, error) {
	var s sessionView
	out, err := c.post(ctx, path("customer-sessions"), a.body("customerRef", "returnUrl"), &s)
	if err != nil {
		return "", nil, err
	}
	who := customerName(ctx, c, s.CustomerRef)
	text := fmt.Sprintf("Here's the customer portal URL for %s:\n\n%s\n\nThe customer can use this link to manage their payment "+
		"methods, view invoices, and update their purchase.", lowerFirst(who), s.URL)
	if !s.ExpiresAt.IsZero() {
		text += fmt.Sprintf(" It expires at %s UTC.", s.ExpiresAt.UTC().Format("2006-01-02 15:04"))
	}
	return text, out, nil
}
