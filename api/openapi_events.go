package api

import (
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// OpenAPI operations of events and webhook endpoints (events.go, webhook_endpoints.go).
var _ = document(
	op{Route: "GET /v1/events", Summary: "List the key's mode's events of the last 30 days, newest first (each is the object after its change)", Tag: "events",
		List: true, Out: domain.Event{}, Query: []param{
			{Name: "type", Description: "an event type, e.g. purchase.renewed"},
			{Name: "objectRef", Description: "the reference of the object the events are about (cus_, pur_, txn_, …)"},
			{Name: "fromDate", Description: "YYYY-MM-DD, inclusive (UTC)"},
			{Name: "toDate", Description: "YYYY-MM-DD, inclusive (UTC)"}}},
	op{Route: "GET /v1/events/{ref}", Summary: "Get an event", Tag: "events", Out: domain.Event{}},

	op{Route: "GET /v1/webhook-endpoints", Summary: "List the key's mode's webhook endpoints", Tag: "webhooks", List: true, Out: domain.WebhookEndpoint{}},
	op{Route: "POST /v1/webhook-endpoints", Summary: "Create a webhook endpoint; the answer carries its signing secret (whsec_…), shown only here. Live mode: https, and no loopback, private, link-local or metadata address", Tag: "webhooks",
		Body: webhookEndpointInput{}, Required: []string{"url"}, Out: domain.WebhookEndpoint{}, Status: 201},
	op{Route: "GET /v1/webhook-endpoints/{ref}", Summary: "Get a webhook endpoint (without its secret)", Tag: "webhooks", Out: domain.WebhookEndpoint{}},
	op{Route: "PATCH /v1/webhook-endpoints/{ref}", Summary: "Change only the fields supplied (enabled: true restarts an endpoint disabled after failing)", Tag: "webhooks",
		Body: webhookEndpointPatch{}, Out: domain.WebhookEndpoint{}},
	op{Route: "DELETE /v1/webhook-endpoints/{ref}", Summary: "Delete a webhook endpoint: nothing more is delivered to it", Tag: "webhooks", Out: deleted{}},
	op{Route: "POST /v1/webhook-endpoints/{ref}/rotate-secret", Summary: "Make a new signing secret, shown only here; the old one keeps signing beside it for 24 hours", Tag: "webhooks",
		Out: domain.WebhookEndpoint{}},
	op{Route: "GET /v1/webhook-endpoints/{ref}/deliveries", Summary: "Every attempt to deliver to the endpoint, newest first: time, status code, latency, the first 1 KB of the answer", Tag: "webhooks",
		List: true, Out: store.WebhookAttempt{}},
	op{Route: "POST /v1/events/{ref}/redeliver", Summary: "Send an event again, to one endpoint (endpointRef) or every endpoint that wants it", Tag: "events",
		Body: redeliverInput{}, Out: redeliverAnswer{}},
)
