package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// tool is one MCP tool: its schema, hints and what it does with the API.
type tool struct {
	name, title, desc string
	params            []param
	readOnly          bool
	destructive       bool
	idempotent        bool
	// run makes the tool's API calls and returns the person's text and the structured content.
	run func(ctx context.Context, c *call, a args) (text string, structured any, err error)
}

// param is one input parameter. alias is the other spelling the seeds use (seed 001's
// customerId for customerRef): either is accepted; required means one of the two must be sent.
type param struct {
	name, typ, desc string
	alias           string
	required        bool
	enum            []string
	items           map[string]any // schema of array items
	extra           map[string]any // more JSON Schema keywords
}

// Parameter types, as JSON Schema names them.
const (
	tString  = "string"
	tInteger = "integer"
	tBoolean = "boolean"
	tObject  = "object"
	tArray   = "array"
)

func (t tool) sdkTool() *sdk.Tool {
	props := map[string]any{}
	var required []string
	for _, p := range t.params {
		props[p.name] = p.schema(p.desc)
		if p.required {
			required = append(required, p.name)
		}
		if p.alias != "" {
			// The alias is listed so clients may send it, but only the main name is marked
			// required: top-level anyOf would say "one of the two" exactly, and some assistant
			// APIs refuse it. The handler enforces "one of the two".
			props[p.alias] = p.schema(fmt.Sprintf("Same as %s (accepted spelling); send one of the two.", p.name))
		}
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}
	destructive := t.destructive
	open := false
	return &sdk.Tool{Name: t.name, Title: t.title, Description: t.desc, InputSchema: schema,
		Annotations: &sdk.ToolAnnotations{Title: t.title, ReadOnlyHint: t.readOnly, DestructiveHint: &destructive,
			IdempotentHint: t.idempotent || t.readOnly, OpenWorldHint: &open}}
}

func (p param) schema(desc string) map[string]any {
	s := map[string]any{"type": p.typ, "description": desc}
	if len(p.enum) > 0 {
		s["enum"] = p.enum
	}
	if p.typ == tArray && p.items != nil {
		s["items"] = p.items
	}
	for k, v := range p.extra {
		s[k] = v
	}
	return s
}

// handler adapts run to the SDK: arguments parsed and checked, every failure (an API refusal,
// bad arguments, an unreachable API, even a panic) answered as a tool error, never as a
// protocol error or a crash.
func (t tool) handler(cfg Config) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (res *sdk.CallToolResult, _ error) {
		defer func() {
			if v := recover(); v != nil {
				cfg.Logger.Error("mcp tool panicked", "tool", t.name, "panic", v, "stack", string(debug.Stack()))
				res = errorResult(&apiError{Code: "INTERNAL", Type: "api_error", Message: "internal error"})
			}
		}()
		c := &call{caller: cfg.Caller}
		if req.Extra != nil {
			c.header = req.Extra.Header
		}
		var raw json.RawMessage
		if req.Params != nil {
			raw = req.Params.Arguments
		}
		a, err := parseArgs(raw, t.params)
		if err != nil {
			return errorResult(err), nil
		}
		text, structured, err := t.run(ctx, c, a)
		if err != nil {
			return errorResult(err), nil
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}, StructuredContent: structured}, nil
	}
}

// errorResult is a tool error carrying the API's code, message and field, as text for the person
// and as the API's error shape for programs.
func errorResult(err error) *sdk.CallToolResult {
	e := asAPIError(err)
	text := e.Code + ": " + e.Message
	if e.Field != "" {
		text += " (field: " + e.Field + ")"
	}
	body := map[string]any{"type": e.Type, "code": e.Code, "message": e.Message}
	if e.Field != "" {
		body["field"] = e.Field
	}
	if e.Status != 0 {
		body["status"] = e.Status
	}
	structured := map[string]any{"error": body}
	if e.CheckoutURL != "" {
		structured["checkoutUrl"] = e.CheckoutURL
	}
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: text}}, StructuredContent: structured}
}
