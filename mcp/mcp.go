// Package mcp is Tollgate's MCP server: the tools of the seeds' assistant conversation (create a
// customer, check limits, refund, …) for AI assistants, over Streamable HTTP at /mcp and over
// stdio (`tollgate mcp`).
//
// Every tool is a thin translation onto one REST API request, made with the user's own API key
// through a Caller. So behaviour, tenant isolation and error codes are the API's by
// construction; this package only shapes arguments, picks the endpoint and writes the short text
// a person reads beside the API's JSON.
package mcp

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Request is one REST API request a tool makes.
type Request struct {
	Method string
	Path   string // e.g. /v1/sdk/customers/cus_1 (already escaped)
	Query  url.Values
	Body   any // JSON-encoded when not nil
	// IdempotencyKey is sent as the Idempotency-Key header when set.
	IdempotencyKey string
	// Header is the HTTP header of the MCP request that asked for the call, when it came over
	// HTTP: in-process callers take the user's API key and the public origin from it.
	Header http.Header
}

// Response is the API's answer: the status and the JSON body.
type Response struct {
	Status int
	Body   []byte
}

// Caller executes API requests with the user's API key. An error means the API could not be
// reached at all; API refusals are Responses with a 4xx or 5xx status.
type Caller interface {
	Call(ctx context.Context, req Request) (Response, error)
}

// Config holds the server's dependencies.
type Config struct {
	Caller  Caller
	Logger  *slog.Logger
	Version string // reported to clients as the server version
}

// New returns an MCP server with every tool registered. Run it on a transport
// (sdk.StdioTransport) or serve it over HTTP with NewHTTPHandler.
func New(cfg Config) *sdk.Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "tollgate", Title: "Tollgate billing", Version: cfg.Version},
		&sdk.ServerOptions{Instructions: instructions, Logger: cfg.Logger})
	for _, t := range allTools() {
		s.AddTool(t.sdkTool(), t.handler(cfg))
	}
	return s
}

const instructions = `Tollgate runs billing for a merchant: customers (cus_…), products (prd_…) with plans ` +
	`(pln_…), purchases (pur_…), transactions (txn_…), usage and limits. Money is always an integer ` +
	`in minor units (2500 = $25.00) with an ISO currency. References returned by one tool are the ` +
	`inputs of the next. Errors carry a stable code (RESOURCE_NOT_FOUND, INVALID_FIELD, …) and name ` +
	`the offending field.`
