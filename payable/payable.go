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

// Paywall protects handlers of one product. Every call is one unit of actionType "api_call"
// unless the optional fields say otherwise (seed 003).
//
// The customer comes from the merchant's own authentication: Customer must be set, and Handler
// panics without it (or UnsafeCustomerHeader), so a paywall never runs that bills or unlocks
// whoever a client claims to be.
type Paywall struct {
	Client  *Client
	Product string // prd_…
	// Customer resolves the Tollgate customer (cus_… or your own externalRef) of a request from
	// what your authentication established: your session cookie, your verified token. An error
	// or "" answers 401 and the handler does not run.
	Customer func(*http.Request) (string, error)
	// UnsafeCustomerHeader, used only when Customer is nil, reads the customer reference from
	// this request header (seed 003's X-Customer-Ref) exactly as the client sent it. Anyone can
	// send any reference, using another customer's allowance: set it only behind a gateway that
	// authenticates the caller, sets the header and drops it from client requests. In this
	// mode a blocked answer carries no checkout link, since the link opens a checkout that
	// shows the customer's email.
	UnsafeCustomerHeader string
	// ActionType and MeterName say what a call counts as (see Tollgate's meter mapping rule).
	ActionType string
	MeterName  string
	// Units is how many units a request uses; nil means 1.
	Units func(*http.Request) int64
	// FailOpen runs the handler when Tollgate cannot be asked; by default the caller gets 503.
	FailOpen bool
	// OnError hears about usage that could not be recorded after the handler ran (the response
	// was already sent by then), and about a check that found no such customer or product.
	OnError func(error)
}

// CustomerHeader is seed 003's header for the customer reference; see UnsafeCustomerHeader.
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
// gets 402 with a checkout link and h does not run. It panics when the paywall has no way to
// resolve customers (see Paywall).
func (p *Paywall) Handler(h http.Handler) http.Handler {
	p.mustResolveCustomers()
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
			// The same answer as a blocked customer's, so the caller cannot tell which customer
			// references exist; the merchant hears which one was unknown.
			p.onError(err)
			p.purchaseRequired(w, "")
			return
		case err != nil && !p.FailOpen:
			w.Header().Set("Retry-After", "1")
			writePaywall(w, http.StatusServiceUnavailable, PaywallError{Error: "PaywallUnavailable", Message: "Billing is briefly unavailable; retry shortly"})
			return
		case err == nil && !lim.WithinLimits:
			p.purchaseRequired(w, lim.CheckoutURL)
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
	if err != nil {
		p.onError(err)
	}
}

func (p *Paywall) onError(err error) {
	if p.OnError != nil {
		p.OnError(err)
	}
}

// mustResolveCustomers refuses, when the handler is built, a paywall that would have to trust
// a client's word for who it is without being told so.
func (p *Paywall) mustResolveCustomers() {
	if p.Customer == nil && p.UnsafeCustomerHeader == "" {
		panic("payable: Paywall.Customer is required: resolve the customer from your own authenticated request " +
			"(see payable/example); UnsafeCustomerHeader trusts a client header and is only for behind an authenticating gateway")
	}
}

func (p *Paywall) customer(r *http.Request) (string, error) {
	if p.Customer != nil {
		return p.Customer(r)
	}
	return r.Header.Get(p.UnsafeCustomerHeader), nil
}

// purchaseRequired is the blocked answer (402, seed 003's body). An unknown customer gets it
// too, without a link: the two read the same to a caller probing customer references.
func (p *Paywall) purchaseRequired(w http.ResponseWriter, checkoutURL string) {
	if p.Customer == nil {
		checkoutURL = "" // the client named the customer: no page with a stranger's email
	}
	writePaywall(w, http.StatusPaymentRequired, PaywallError{Error: "PaywallError", Message: "Purchase required", CheckoutURL: checkoutURL})
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
