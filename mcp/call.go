package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// call is one tool invocation's access to the API.
type call struct {
	caller Caller
	header http.Header
	// lastStatus is the status of the last 2xx answer: some answers differ only by it
	// (ensure: 201 created, 200 found).
	lastStatus int
	// idempotencyKey goes with the next POST (refunds need one).
	idempotencyKey string
}

// apiError is an API refusal (or a failure to reach the API) in the API's error vocabulary.
type apiError struct {
	Status      int
	Type        string
	Code        string
	Message     string
	Field       string
	CheckoutURL string // a paywall refusal's link
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{Type: "api_error", Code: "INTERNAL", Message: "internal error"}
}

// do makes one API request and returns the JSON body of a 2xx answer; anything else is an
// *apiError with the API's code and message.
func (c *call) do(ctx context.Context, method, path string, query url.Values, body any) (json.RawMessage, error) {
	if c.caller == nil {
		return nil, &apiError{Type: "api_error", Code: "SERVICE_UNAVAILABLE", Message: "this MCP server has no API to call"}
	}
	res, err := c.caller.Call(ctx, Request{Method: method, Path: path, Query: query, Body: body, Header: c.header,
		IdempotencyKey: c.idempotencyKey})
	c.idempotencyKey = ""
	if err != nil {
		if ctx.Err() != nil {
			return nil, &apiError{Type: "api_error", Code: "SERVICE_UNAVAILABLE", Message: "the request was cancelled or timed out"}
		}
		return nil, &apiError{Type: "api_error", Code: "SERVICE_UNAVAILABLE", Message: err.Error()}
	}
	if res.Status >= 200 && res.Status < 300 {
		c.lastStatus = res.Status
		if len(bytes.TrimSpace(res.Body)) == 0 {
			return json.RawMessage("{}"), nil
		}
		return res.Body, nil
	}
	return nil, responseError(method, path, res)
}

// responseError reads the API's one error shape; a body without it (a route the server does not
// have, a proxy's page) is described by its status so the assistant still learns what happened.
func responseError(method, path string, res Response) *apiError {
	var b struct {
		Error struct {
			Type, Code, Message, Field string
		} `json:"error"`
		CheckoutURL string `json:"checkoutUrl"`
	}
	if json.Unmarshal(res.Body, &b) == nil && b.Error.Code != "" {
		return &apiError{Status: res.Status, Type: b.Error.Type, Code: b.Error.Code, Message: b.Error.Message,
			Field: b.Error.Field, CheckoutURL: b.CheckoutURL}
	}
	code, typ := "INTERNAL", "api_error"
	msg := fmt.Sprintf("the Tollgate API answered %d %s to %s %s", res.Status, http.StatusText(res.Status), method, path)
	switch {
	case res.Status == http.StatusNotFound || res.Status == http.StatusMethodNotAllowed:
		code, typ = "RESOURCE_NOT_FOUND", "not_found_error"
		msg += ": this server has no such endpoint (is it an older version?)"
	case res.Status == http.StatusUnauthorized:
		code, typ = "UNAUTHORISED", "authentication_error"
	case res.Status == http.StatusTooManyRequests:
		code, typ = "RATE_LIMITED", "rate_limit_error"
	case res.Status == http.StatusBadGateway || res.Status == http.StatusServiceUnavailable || res.Status == http.StatusGatewayTimeout:
		code = "SERVICE_UNAVAILABLE"
	case res.Status >= 400 && res.Status < 500:
		code, typ = "INVALID_FIELD", "invalid_request_error"
	}
	return &apiError{Status: res.Status, Type: typ, Code: code, Message: msg}
}

// get, post, patch and del decode a 2xx answer into out (when not nil) and return the raw
// body as structured content.
func (c *call) get(ctx context.Context, path string, q url.Values, out any) (map[string]any, error) {
	return c.json(ctx, http.MethodGet, path, q, nil, out)
}

func (c *call) post(ctx context.Context, path string, body, out any) (map[string]any, error) {
	return c.json(ctx, http.MethodPost, path, nil, body, out)
}

func (c *call) patch(ctx context.Context, path string, body, out any) (map[string]any, error) {
	return c.json(ctx, http.MethodPatch, path, nil, body, out)
}

func (c *call) del(ctx context.Context, path string, out any) (map[string]any, error) {
	return c.json(ctx, http.MethodDelete, path, nil, nil, out)
}

func (c *call) json(ctx context.Context, method, path string, q url.Values, body, out any) (map[string]any, error) {
	raw, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return nil, err
	}
	return decodeObject(raw, out)
}

// decodeObject returns raw as a map for structured content (numbers kept exact) and decodes it
// into out when out is not nil.
func decodeObject(raw json.RawMessage, out any) (map[string]any, error) {
	structured := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&structured); err != nil {
		return nil, &apiError{Type: "api_error", Code: "INTERNAL", Message: "the API's answer was not a JSON object"}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, &apiError{Type: "api_error", Code: "INTERNAL", Message: "the API's answer had an unexpected shape"}
		}
	}
	return structured, nil
}

// path joins escaped segments after /v1.
func path(segments ...string) string { return "/v1/" + strings.Join(segments, "/") }

// escape makes a reference from an API answer safe as a path segment.
func escape(ref string) string { return url.PathEscape(ref) }
