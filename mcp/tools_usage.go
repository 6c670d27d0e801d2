package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// usageParams are one usage event, as seeds 000/001/003 send it (record_usage / trackUsage).
func usageParams() []param {
	return []param{
		customerRef(true),
		productRef(false),
		{name: "actionType", typ: tString, desc: "What the customer did, e.g. \"api_call\"; a meter name here counts on that meter."},
		{name: "units", typ: tInteger, desc: "How many units the action used (default 1)."},
		{name: "outcome", typ: tString, desc: "success (default; only successes count toward limits and billing), error, timeout, …"},
		{name: "meterName", typ: tString, desc: "Meter to count on (api_requests, requests, api_calls, tokens, tool:{toolName} or a custom meter); default: the plan's meter."},
		{name: "idempotencyKey", typ: tString, desc: "A key unique to this event: sending the same key again counts it once."},
		{name: "timestamp", typ: tString, desc: "When it happened, RFC 3339 (default now)."},
		{name: "metadata", typ: tObject, desc: "Any JSON object to keep with the event."},
	}
}

var usageBodyFields = paramNames(usageParams())

// usageEventSchema is an item of record_bulk_usage's events: the record_usage payload.
func usageEventSchema() map[string]any {
	props := map[string]any{}
	for _, p := range usageParams() {
		props[p.name] = p.schema(p.desc)
		if p.alias != "" {
			props[p.alias] = p.schema("Same as " + p.name + " (accepted spelling).")
		}
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false,
		"description": "One usage event: customerRef (or customerId) is required."}
}

func usageTools() []tool {
	return []tool{
		{name: "record_usage", title: "Record usage",
			desc: "Record one usage event for a customer (e.g. an API call). It counts toward the customer's limits and " +
				"usage-based billing for the current period. Send an idempotencyKey to make retries safe.",
			params: usageParams(), run: recordUsage},
		{name: "record_bulk_usage", title: "Record usage in bulk",
			desc: "Record up to 1,000 usage events in one call, all or nothing; each event has the same shape as record_usage " +
				"(customerRef, actionType, units, optional productRef, outcome). Use it for batches instead of many record_usage calls.",
			params: []param{{name: "events", typ: tArray, required: true, items: usageEventSchema(),
				desc: "The usage events, 1 to 1,000.", extra: map[string]any{"minItems": 1, "maxItems": 1000}}},
			run: recordBulkUsage},
		{name: "check_limits", title: "Check usage limits",
			desc: "Check whether a customer is within the usage limits of their plan for a product this period: answers " +
				"withinLimits, used, limit, remaining, and a checkoutUrl to upgrade when blocked.",
			params: []param{customerRef(true), productRef(true),
				{name: "meterName", typ: tString, desc: "Meter to check (default: the plan's meter)."},
				{name: "actionType", typ: tString, desc: "Action about to happen; mapped to a meter as in record_usage."},
				{name: "units", typ: tInteger, desc: "Units about to be used (default 1)."}},
			readOnly: true, run: checkLimits},
	}
}

type recorded struct {
	Reference string `json:"reference"`
	Duplicate bool   `json:"duplicate"`
	Units     int64  `json:"units"`
	MeterName string `json:"meterName"`
}

func recordUsage(ctx context.Context, c *call, a args) (string, any, error) {
	var r recorded
	out, err := c.post(ctx, path("usages"), a.body(usageBodyFields...), &r)
	if err != nil {
		return "", nil, err
	}
	if r.Duplicate {
		return fmt.Sprintf("This usage event was already recorded (%s, same idempotencyKey); it counts once.", r.Reference), out, nil
	}
	return "Usage event recorded successfully.", out, nil
}

func recordBulkUsage(ctx context.Context, c *call, a args) (string, any, error) {
	var r struct {
		Recorded   int `json:"recorded"`
		Duplicates int `json:"duplicates"`
	}
	out, err := c.post(ctx, path("usages", "bulk"), map[string]json.RawMessage{"events": a["events"]}, &r)
	if err != nil {
		return "", nil, err
	}
	text := fmt.Sprintf("%d usage %s recorded successfully.", r.Recorded, plural(r.Recorded, "event", "events"))
	if r.Duplicates > 0 {
		text += fmt.Sprintf(" %d %s already recorded (same idempotencyKey) and counted once.", r.Duplicates,
			plural(r.Duplicates, "was", "were"))
	}
	return text, out, nil
}

type limitsView struct {
	WithinLimits bool   `json:"withinLimits"`
	Used         int64  `json:"used"`
	Limit        *int64 `json:"limit"`
	Remaining    *int64 `json:"remaining"`
	FreeUnits    int64  `json:"freeUnits"`
	MeterName    string `json:"meterName"`
	Reason       string `json:"reason"`
	CheckoutURL  string `json:"checkoutUrl"`
}

func checkLimits(ctx context.Context, c *call, a args) (string, any, error) {
	var l limitsView
	out, err := c.post(ctx, path("limits"), a.body("customerRef", "productRef", "meterName", "actionType", "units"), &l)
	if err != nil {
		return "", nil, err
	}
	return limitsText(l), out, nil
}

// limitsText reads a limits answer the way seed 000 does: "The customer has used 87 of 100 free
// requests this period. They have 13 requests remaining before they'll need to upgrade."
func limitsText(l limitsView) string {
	units := unitWord(l.MeterName)
	free := ""
	if l.Limit != nil && l.FreeUnits > 0 && *l.Limit == l.FreeUnits {
		free = "free "
	}
	purchaseStatus, isPurchase := strings.CutPrefix(l.Reason, "purchase_")
	var text string
	switch {
	case l.Reason == "no_purchase" || l.Reason == "no_plan":
		text = "The customer has no active purchase of this product, so the usage is not allowed."
	case isPurchase && purchaseStatus != "":
		text = fmt.Sprintf("The customer's purchase is %s, so the usage is not allowed.", titleStatusLower(purchaseStatus))
	case l.Limit == nil && l.FreeUnits > 0:
		text = fmt.Sprintf("The customer has used %d %s this period; %d are free and usage beyond that is billed. There is no hard limit.",
			l.Used, units, l.FreeUnits)
	case l.Limit == nil:
		text = fmt.Sprintf("The customer has used %d %s this period. Their plan has no usage limit.", l.Used, units)
	case l.WithinLimits:
		remaining := int64(0)
		if l.Remaining != nil {
			remaining = *l.Remaining
		}
		text = fmt.Sprintf("The customer has used %d of %d %s%s this period. They have %d %s remaining before they'll need to upgrade.",
			l.Used, *l.Limit, free, units, remaining, units)
	default:
		text = fmt.Sprintf("The customer has reached their limit: %d of %d %s%s used this period.", l.Used, *l.Limit, free, units)
	}
	if !l.WithinLimits && l.CheckoutURL != "" {
		text += "\n\nTo continue they need to upgrade; send them this checkout link:\n" + l.CheckoutURL
	}
	return text
}

func titleStatusLower(s string) string {
	if s == "past_due" {
		return "past due"
	}
	return s
}
