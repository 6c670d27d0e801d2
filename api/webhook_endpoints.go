package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// webhookEndpointInput creates an endpoint; enabledEvents ["*"] (the default) is every type.
type webhookEndpointInput struct {
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabledEvents"`
	Description   string   `json:"description"`
	Enabled       *bool    `json:"enabled"`
}

// webhookEndpointPatch changes only the fields supplied.
type webhookEndpointPatch struct {
	URL           *string  `json:"url"`
	EnabledEvents []string `json:"enabledEvents"`
	Description   *string  `json:"description"`
	Enabled       *bool    `json:"enabled"`
}

const maxDescription = 500

// checkEnabledEvents refuses an empty list and an unknown type.
func checkEnabledEvents(events []string) error {
	if len(events) == 0 {
		return domain.Errorf(domain.CodeInvalidField, "enabledEvents", `enabledEvents must list event types, or ["*"] for all`)
	}
	for _, t := range events {
		if t != "*" && !domain.IsEventType(t) {
			return domain.Errorf(domain.CodeInvalidField, "enabledEvents", "enabledEvents: %q is not an event type", t)
		}
	}
	return nil
}

// createWebhookEndpoint is POST /v1/webhook-endpoints: the answer carries the signing secret,
// the only time it is shown (until a rotation).
func (s *Server) createWebhookEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in webhookEndpointInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	mode := keyOf(r).Mode
	if err := required("url", in.URL); err != nil {
		return err
	}
	if err := webhooks.CheckURL(in.URL, mode); err != nil {
		return err
	}
	if in.EnabledEvents == nil {
		in.EnabledEvents = []string{"*"}
	}
	if err := checkEnabledEvents(in.EnabledEvents); err != nil {
		return err
	}
	if err := maxLen("description", in.Description, maxDescription); err != nil {
		return err
	}
	e := domain.WebhookEndpoint{MerchantRef: merchantOf(r), Mode: mode, URL: in.URL, EnabledEvents: in.EnabledEvents,
		Description: in.Description, Enabled: in.Enabled == nil || *in.Enabled}
	out, err := s.store.CreateWebhookEndpoint(r.Context(), e, webhooks.NewSecret())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listWebhookEndpoints(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	list, total, err := s.store.ListWebhookEndpoints(r.Context(), merchantOf(r), keyOf(r).Mode, p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getWebhookEndpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := s.store.GetWebhookEndpoint(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// updateWebhookEndpoint is PATCH /v1/webhook-endpoints/{ref}; enabled: true also restarts an
// endpoint Tollgate disabled after it failed for days.
func (s *Server) updateWebhookEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in webhookEndpointPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.URL == nil && in.EnabledEvents == nil && in.Description == nil && in.Enabled == nil {
		return domain.Errorf(domain.CodeMissingField, "body", "send at least one of url, enabledEvents, description, enabled")
	}
	ctx, merchant, mode, ref := r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref")
	if _, err := s.store.GetWebhookEndpoint(ctx, merchant, mode, ref); err != nil {
		return err
	}
	if in.URL != nil {
		if err := webhooks.CheckURL(*in.URL, mode); err != nil {
			return err
		}
	}
	if in.EnabledEvents != nil {
		if err := checkEnabledEvents(in.EnabledEvents); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := maxLen("description", *in.Description, maxDescription); err != nil {
			return err
		}
	}
	e, err := s.store.UpdateWebhookEndpoint(ctx, merchant, mode, ref, store.WebhookEndpointPatch{URL: in.URL,
		EnabledEvents: in.EnabledEvents, Description: in.Description, Enabled: in.Enabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deleteWebhookEndpoint(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	if err := s.store.DeleteWebhookEndpoint(r.Context(), merchantOf(r), keyOf(r).Mode, ref); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Reference: ref, Deleted: true})
	return nil
}

// rotateWebhookSecret is POST /v1/webhook-endpoints/{ref}/rotate-secret: a new secret, shown
// once; the old one keeps signing beside it for 24 hours, so receivers can switch over.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	e, err := s.store.RotateWebhookSecret(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"), webhooks.NewSecret())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// listWebhookDeliveries is GET /v1/webhook-endpoints/{ref}/deliveries: every attempt to deliver
// to the endpoint, newest first (time, status code, latency, the first 1 KB of the answer).
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	list, total, err := s.store.ListWebhookAttempts(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"), p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

// redeliverInput names one endpoint; without it every endpoint that wants the event gets it.
type redeliverInput struct {
	EndpointRef string `json:"endpointRef"`
}

type redeliverAnswer struct {
	EventRef  string   `json:"eventRef"`
	Endpoints []string `json:"endpoints"`
}

// redeliverEvent is POST /v1/events/{ref}/redeliver: the event is sent again, on the usual
// schedule, to one endpoint or to every endpoint that wants it.
func (s *Server) redeliverEvent(w http.ResponseWriter, r *http.Request) error {
	var in redeliverInput
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	ctx, merchant, mode, ref := r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref")
	if _, err := s.store.GetEvent(ctx, merchant, mode, ref); err != nil {
		return err
	}
	if in.EndpointRef != "" {
		e, err := s.store.GetWebhookEndpoint(ctx, merchant, mode, in.EndpointRef)
		if err != nil {
			return inField(err, "endpointRef")
		}
		if !e.Enabled || e.DisabledAt != nil {
			return domain.Errorf(domain.CodeConflict, "endpointRef", "webhook endpoint %s is disabled: enable it first (PATCH {\"enabled\":true})", e.Ref)
		}
	}
	c, err := s.lifecycle()
	if err != nil {
		return err
	}
	deliveries, err := s.store.Redeliveries(ctx, merchant, mode, ref, in.EndpointRef)
	if err != nil {
		return err
	}
	relay := webhooks.Relay{Store: s.store, Temporal: c.Temporal, TaskQueue: c.TaskQueue}
	if err := relay.Redeliver(ctx, deliveries); err != nil {
		return err
	}
	out := redeliverAnswer{EventRef: ref, Endpoints: []string{}}
	for _, d := range deliveries {
		out.Endpoints = append(out.Endpoints, d.EndpointRef)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
