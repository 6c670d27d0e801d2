// Package httpserver builds Tollgate's HTTP servers with a deadline on every phase of a
// connection, so a client that sends slowly (slowloris), never finishes its body or holds an
// idle connection open cannot pin a server's connections and goroutines.
package httpserver

import (
	"cmp"
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
//   - Write: the slowest answer is a hosted page's Pay, which waits up to 20 s for the first
//     payment and then its purchase's writes; a portal card update waits up to 60 s. Nothing
//     streams: /mcp is stateless and answers JSON (no SSE stream to keep open), and the Temporal
//     UI's long polls end well inside it.
var Default = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 90 * time.Second, Idle: 2 * time.Minute}

// New returns a server of h with t's timeouts.
func New(h http.Handler, t Timeouts) *http.Server {
	d := Default
	return &http.Server{Handler: h, ReadHeaderTimeout: cmp.Or(t.ReadHeader, d.ReadHeader),
		ReadTimeout: cmp.Or(t.Read, d.Read), WriteTimeout: cmp.Or(t.Write, d.Write), IdleTimeout: cmp.Or(t.Idle, d.Idle)}
}
