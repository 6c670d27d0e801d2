// Package httpserver builds Tollgate's HTTP servers with a deadline on every phase of a
// connection, so a client that sends slowly (slowloris), never finishes its body or holds an
// idle connection open cannot pin a server's connections and goroutines.
package httpserver

import (
	"cmp"
	"context"
	"net/http"
	"time"
)

// Timeouts bound each phase of a connection; a zero field takes Default's.
type Timeouts struct {
	// ReadHeader bounds the request line and headers.
	ReadHeader time.Duration
	// Read bounds the whole request, body included, from the connection's first byte.
	Read time.Duration
	// Write bounds the response, from the end of the request's headers: handler time included.
	Write time.Duration
	// Idle bounds a kept-alive connection between two requests.
	Idle time.Duration
}

// Default fits the largest legitimate request and the slowest answer:
//   - Read: a request body is at most 1 MiB (a bulk usage upload of 1,000 events); 30 s lets it
//     arrive at about 35 kB/s.
//   - Write: handlers get 81 s of it (New). The slowest answer is a hosted page's Pay, which
//     waits up to 20 s for the first payment and then its purchase's writes; a portal card update
//     waits up to 60 s. Nothing streams: /mcp is stateless and answers JSON (no SSE stream to keep
//     open), and the Temporal UI's long polls end well inside it.
var Default = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 90 * time.Second, Idle: 2 * time.Minute}

// New returns a server of h with t's timeouts. Each request's context also ends a tenth of the
// write timeout before the write deadline, so a handler still waiting then (an activation whose
// workflow is stuck, a slow query) stops and answers — the API's 503 with Retry-After — while the
// connection can still carry it. Without that the handler would run on after the deadline and its
// client would wait on a connection the server can no longer write to.
func New(h http.Handler, t Timeouts) *http.Server {
	d := Default
	write := cmp.Or(t.Write, d.Write)
	return &http.Server{Handler: withDeadline(h, write-write/10), ReadHeaderTimeout: cmp.Or(t.ReadHeader, d.ReadHeader),
		ReadTimeout: cmp.Or(t.Read, d.Read), WriteTimeout: write, IdleTimeout: cmp.Or(t.Idle, d.Idle)}
}

// withDeadline runs h with each request's context ending after budget (none when budget <= 0).
func withDeadline(h http.Handler, budget time.Duration) http.Handler {
	if budget <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
