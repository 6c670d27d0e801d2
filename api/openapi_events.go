package api

import "github.com/tollgate-billing/tollgate/domain"

// OpenAPI operations of events and webhook endpoints (events.go, webhook_endpoints.go).
var _ = document(
	op{Route: "GET /v1/events", Summary: "List the key's mode's events of the last 30 days, newest first (each is the object after its change)", Tag: "events",
		List: true, Out: domain.Event{}, Query: []param{
			{Name: "type", Description: "an event type, e.g. purchase.renewed"},
			{Name: "objectRef", Description: "the reference of the object the events are about (cus_, pur_, txn_, …)"},
			{Name: "fromDate", Description: "YYYY-MM-DD, inclusive (UTC)"},
			{Name: "toDate", Description: "YYYY-MM-DD, inclusive (UTC)"}}},
	op{Route: "GET /v1/events/{ref}", Summary: "Get an event", Tag: "events", Out: domain.Event{}},
)
