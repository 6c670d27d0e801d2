package payable

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Paywall protects handlers of one product. The zero values of the optional fields follow
// seed 003: the customer comes from the X-Customer-Ref header, every call is one unit of
// actionType "api_call".
type Paywall struct {
	Client  *Client
	Product string // prd_…
	// Customer resolves the customer reference (cus_… or your own externalRef) of a request;
	// nil reads the X-Customer-Ref header.
	Customer func(*http.Request) (string, error)
	// ActionType and MeterName say what a call counts as (see Tollgate's meter mapping rule).
	ActionType string
	MeterName  string
	// Units is how many units a request uses; nil means 1.
	Units func(*http.Request) int64
	// FailOpen runs the handler when Tollgate cannot be asked; by default the caller gets 503.
	FailOpen bool
	// OnError hears about usage that could not be recorded after the handler ran (the response
	// was already sent by then).
	OnError func(error)
}

// CustomerHeader is where the default resolver reads the customer reference.
const CustomerHeader = "X-Customer-Ref"

// PaywallError is the blocked answer of seed 003:
// {"error":"PaywallError","message":"Purchase required","checkoutUrl":"…"}.
type PaywallError struct {
	Error       string `json:"error"`
	Message     string `json:"message"`
	CheckoutURL string `json:"checkoutUrl,omitempty"`
}

// HandlerFunc wraps f; see Handler.
func (p *Paywall) HandlerFunc(f func(http.ResponseWriter, *http.Request)) http.Handler {
	return p.Handler(http.HandlerFunc(f))
}

// Handler wraps h in the paywall flow: resolve the customer, check limits, run h, record the
// usage with its outcome ("success" for answers below 400, else "error"); a blocked customer
// gets 402 with a checkout link and h does not run.
func (p *Paywall) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customer, err := p.customer(r)
		if err != nil || customer == "" {
			writePaywall(w, http.StatusUnauthorized, PaywallError{Error: "PaywallError", Message: "Customer reference required"})
			return
		}
		units := int64(1)
		if p.Units != nil {
			units = p.Units(r)
		}
		lim, err := p.Client.CheckLimits(r.Context(), LimitsRequest{CustomerRef: customer, ProductRef: p.Product, MeterName: p.MeterName, Units: units})
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
			writePaywall(w, http.StatusForbidden, PaywallError{Error: "PaywallError", Message: "Unknown customer or product"})
			return
		case err != nil && !p.FailOpen:
			w.Header().Set("Retry-After", "1")
			writePaywall(w, http.StatusServiceUnavailable, PaywallError{Error: "PaywallUnavailable", Message: "Billing is briefly unavailable; retry shortly"})
			return
		case err == nil && !lim.WithinLimits:
			writePaywall(w, http.StatusPaymentRequired, PaywallError{Error: "PaywallError", Message: "Purchase required", CheckoutURL: lim.CheckoutURL})
			return
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		// flush the answer before recording, so the customer has it during the bookkeeping (the
		// response itself ends only once the usage is recorded)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		outcome := "success"
		if rec.status >= 400 {
			outcome = "error"
		}
		p.record(context.WithoutCancel(r.Context()), Usage{CustomerRef: customer, ProductRef: p.Product, ActionType: p.actionType(),
			MeterName: p.MeterName, Units: units, Outcome: outcome, IdempotencyKey: newKey()})
	})
}

// record tracks the usage, retrying once a failure worth retrying with the same key (counted once).
func (p *Paywall) record(ctx context.Context, u Usage) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := p.Client.TrackUsage(ctx, u)
	if err != nil && IsTemporary(err) {
		time.Sleep(200 * time.Millisecond)
		_, err = p.Client.TrackUsage(ctx, u)
	}
	if err != nil && p.OnError != nil {
		p.OnError(err)
	}
}

func (p *Paywall) customer(r *http.Request) (string, error) {
	if p.Customer != nil {
		return p.Customer(r)
	}
	return r.Header.Get(CustomerHeader), nil
}

func (p *Paywall) actionType() string {
	if p.ActionType == "" {
		return "api_call"
	}
	return p.ActionType
}

func writePaywall(w http.ResponseWriter, status int, body PaywallError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// newKey makes the idempotency key of one protected call.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "payable_" + hex.EncodeToString(b)
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
