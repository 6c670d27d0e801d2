package mcp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

type eventView struct {
	Reference  string    `json:"reference"`
	Type       string    `json:"type"`
	ObjectType string    `json:"objectType"`
	ObjectRef  string    `json:"objectRef"`
	CreatedAt  time.Time `json:"createdAt"`
}

type endpointView struct {
	Reference     string     `json:"reference"`
	URL           string     `json:"url"`
	EnabledEvents []string   `json:"enabledEvents"`
	Description   string     `json:"description"`
	Enabled       bool       `json:"enabled"`
	DisabledAt    *time.Time `json:"disabledAt"`
	Secret        string     `json:"secret"`
}

func (e endpointView) oneLine() string {
	s := fmt.Sprintf("%s → %s (%s)", e.Reference, e.URL, strings.Join(e.EnabledEvents, ", "))
	switch {
	case e.DisabledAt != nil:
		s += ", disabled after failing for days on " + day(e.DisabledAt)
	case !e.Enabled:
		s += ", disabled"
	}
	if e.Description != "" {
		s += " — " + e.Description
	}
	return s
}

// eventTools are the merchant's events and the webhook endpoints they are sent to.
func eventTools() []tool {
	return []tool{
		{name: "list_events", title: "List events",
			desc: "List the events of the last 30 days (evt_…), newest first: every change a merchant could act on, " +
				"e.g. purchase.renewed or payment.failed, with the object it is about. Filter by type, object or date range.",
			params: withPaging(append([]param{
				{name: "type", typ: tString, enum: domain.EventTypes, desc: "Only events of this type."},
				{name: "objectRef", typ: tString, desc: "Only events about this object (cus_…, pur_…, txn_…)."}},
				dateParams...)...),
			readOnly: true, run: listEvents},
		{name: "list_webhook_endpoints", title: "List webhook endpoints",
			desc:   "List the URLs events are delivered to (we_…), with the event types each wants and whether it is enabled.",
			params: withPaging(), readOnly: true, run: listWebhookEndpoints},
		{name: "create_webhook_endpoint", title: "Create a webhook endpoint",
			desc: "Deliver events to a URL, signed per the Standard Webhooks specification. Answers the signing secret " +
				"(whsec_…), shown only this once. A live key needs a public https URL; a sandbox key may use http://localhost.",
			params: []param{
				{name: "url", typ: tString, required: true, desc: "Where to POST events, e.g. https://crm.example.com/hooks."},
				{name: "enabledEvents", typ: tArray, items: map[string]any{"type": "string", "enum": append([]string{"*"}, domain.EventTypes...)},
					desc: `Event types to send, or ["*"] (the default) for all.`},
				{name: "description", typ: tString, desc: "What the endpoint is for, up to 500 characters."}},
			run: createWebhookEndpoint},
	}
}

func listEvents(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []eventView `json:"data"`
	}
	out, err := c.get(ctx, path("events"), a.query("type", "objectRef", "fromDate", "toDate", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, e := range list.Data {
		lines[i] = fmt.Sprintf("%s %s of %s %s at %s", e.Reference, e.Type, e.ObjectType, e.ObjectRef,
			e.CreatedAt.UTC().Format("2006-01-02 15:04:05"))
	}
	return listText("events", list.Total, list.Page, list.Limit, lines), out, nil
}

func listWebhookEndpoints(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []endpointView `json:"data"`
	}
	out, err := c.get(ctx, path("webhook-endpoints"), a.query("page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, e := range list.Data {
		lines[i] = e.oneLine()
	}
	return listText("webhook endpoints", list.Total, list.Page, list.Limit, lines), out, nil
}

func createWebhookEndpoint(ctx context.Context, c *call, a args) (string, any, error) {
	var e endpointView
	out, err := c.post(ctx, path("webhook-endpoints"), a.body("url", "enabledEvents", "description"), &e)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("Created webhook endpoint %s.\n\nSigning secret (shown only now; keep it to verify deliveries): %s",
		e.oneLine(), e.Secret), out, nil
}
