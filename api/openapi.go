package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// The OpenAPI 3 document at /openapi.json is built from the same Go types the handlers decode
// and answer, so a field added to a body shows up in the document. Each resource declares its
// operations with document(...) (openapi_*.go); a test holds them against Routes() both ways.

// op documents one route.
type op struct {
	Route    string   // "GET /v1/customers/{ref}", exactly as registered
	Summary  string   // one line
	Tag      string   // resource group
	Query    []param  // query parameters
	Headers  []param  // request headers
	Body     any      // request body (a zero value of the decoded type); nil for none
	Required []string // required body fields
	Out      any      // response body; with List, one element of data
	List     bool     // the answer is the list shape
	Status   int      // success status; 200 when zero
	Public   bool     // no API key needed
	Produces string   // a media type other than JSON (application/pdf): the answer is its bytes
}

// param is a query parameter.
type param struct {
	Name, Description string
	Required          bool
}

var (
	docsMu sync.Mutex
	docs   []op
)

// document adds operations to the OpenAPI document. It returns true so a file can declare its
// operations as `var _ = document(...)`.
func document(ops ...op) bool {
	docsMu.Lock()
	defer docsMu.Unlock()
	docs = append(docs, ops...)
	return true
}

// documentedRoutes lists every documented route (for the test).
func documentedRoutes() []string {
	docsMu.Lock()
	defer docsMu.Unlock()
	out := make([]string, len(docs))
	for i, o := range docs {
		out[i] = o.Route
	}
	return out
}

// pageParams are the list parameters every list accepts.
var pageParams = []param{
	{Name: "page", Description: "page number, from 1"},
	{Name: "limit", Description: "page size, 1 to 100 (default 10)"},
}

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

var (
	openapiOnce sync.Once
	openapiDoc  map[string]any
)

// openAPI builds the document once.
func openAPI() map[string]any {
	openapiOnce.Do(func() {
		docsMu.Lock()
		ops := append([]op(nil), docs...)
		docsMu.Unlock()
		g := &schemaGen{schemas: map[string]any{}}
		paths := map[string]map[string]any{}
		for _, o := range ops {
			method, path, _ := strings.Cut(o.Route, " ")
			if paths[path] == nil {
				paths[path] = map[string]any{}
			}
			paths[path][strings.ToLower(method)] = g.operation(o, method, path)
		}
		g.schemas["Error"] = g.schemaOf(reflect.TypeOf(errorBody{}))
		openapiDoc = map[string]any{
			"openapi": "3.0.3",
			"info": map[string]any{
				"title":       "Tollgate API",
				"version":     "1",
				"description": "Billing for APIs, apps, AI agents and MCP servers. Money is in minor units of an ISO 4217 currency. Every POST accepts an Idempotency-Key header.",
			},
			"security": []any{map[string]any{"ApiKey": []string{}}, map[string]any{"Bearer": []string{}}},
			"paths":    paths,
			"components": map[string]any{
				"schemas": g.schemas,
				"securitySchemes": map[string]any{
					"ApiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-KEY"},
					"Bearer": map[string]any{"type": "http", "scheme": "bearer"},
				},
			},
		}
	})
	return openapiDoc
}

// serveOpenAPI answers the document with this server's URL.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc := map[string]any{}
	for k, v := range openAPI() {
		doc[k] = v
	}
	doc["servers"] = []any{map[string]any{"url": s.baseURL(r)}}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

var _ = document(op{Route: "GET /openapi.json", Summary: "This OpenAPI document", Tag: "meta", Public: true,
	Out: map[string]any{}})

type schemaGen struct {
	schemas map[string]any
}

func (g *schemaGen) operation(o op, method, path string) map[string]any {
	out := map[string]any{
		"summary":     o.Summary,
		"operationId": operationID(method, path),
		"tags":        []string{o.Tag},
	}
	var params []any
	for _, m := range pathParamRe.FindAllStringSubmatch(path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range o.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required,
			"description": q.Description, "schema": map[string]any{"type": "string"}})
	}
	for _, h := range o.Headers {
		params = append(params, map[string]any{"name": h.Name, "in": "header", "required": h.Required,
			"description": h.Description, "schema": map[string]any{"type": "string"}})
	}
	if o.List {
		params = append(params, pageParamsAsAny()...)
	}
	params = append(params, map[string]any{"name": RequestIDHeader, "in": "header", "required": false,
		"description": "your id for this request (1–128 letters, digits and . _ : -), answered back and logged; otherwise the server makes one (req_…)",
		"schema":      map[string]any{"type": "string", "maxLength": maxRequestIDLen, "pattern": "^[A-Za-z0-9._:-]+$"}})
	if method == http.MethodPost && !o.Public {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "same key and body within 24 h replays the first answer; same key, other body is 409",
			"schema":      map[string]any{"type": "string", "maxLength": 255}})
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	if o.Body != nil {
		body := g.inline(reflect.TypeOf(o.Body))
		if len(o.Required) > 0 {
			body["required"] = o.Required
		}
		out["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": body}}}
	}
	status := o.Status
	if status == 0 {
		status = http.StatusOK
	}
	var schema map[string]any
	switch {
	case o.List:
		schema = g.list(reflect.TypeOf(o.Out))
	case o.Out != nil:
		schema = g.schemaOf(reflect.TypeOf(o.Out))
	default:
		schema = map[string]any{}
	}
	// every answer carries the request's id; an error body repeats it as error.requestId
	headers := map[string]any{RequestIDHeader: map[string]any{"description": "the request's id, as in its log lines",
		"schema": map[string]any{"type": "string"}}}
	errRef := map[string]any{"description": "the one error shape", "headers": headers,
		"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	ok := map[string]any{"description": http.StatusText(status), "headers": headers}
	switch {
	case o.Produces != "":
		ok["content"] = map[string]any{o.Produces: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case status != http.StatusNoContent:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	out["responses"] = map[string]any{strconv.Itoa(status): ok, "4XX": errRef, "default": errRef}
	if o.Public {
		out["security"] = []any{}
	}
	return out
}

func pageParamsAsAny() []any {
	out := make([]any, len(pageParams))
	for i, p := range pageParams {
		out[i] = map[string]any{"name": p.Name, "in": "query", "description": p.Description, "schema": map[string]any{"type": "integer"}}
	}
	return out
}

// list is the list shape of DESIGN.md around elements of t.
func (g *schemaGen) list(t reflect.Type) map[string]any {
	link := map[string]any{"type": "string", "nullable": true}
	return map[string]any{"type": "object", "properties": map[string]any{
		"data":  map[string]any{"type": "array", "items": g.schemaOf(t)},
		"page":  map[string]any{"type": "integer"},
		"limit": map[string]any{"type": "integer"},
		"total": map[string]any{"type": "integer"},
		"links": map[string]any{"type": "object", "properties": map[string]any{
			"first": map[string]any{"type": "string"}, "previous": link, "current": map[string]any{"type": "string"}, "next": link}},
	}}
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

// schemaOf returns a schema for t; named structs become components referenced by $ref.
func (g *schemaGen) schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.schemaOf(t.Elem())
		if _, isRef := s["$ref"]; isRef {
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schemaOf(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.inline(t)
		}
		name := componentName(t)
		if _, ok := g.schemas[name]; !ok {
			g.schemas[name] = map[string]any{} // placeholder against recursion
			g.schemas[name] = g.inline(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// inline is the object schema of a struct's JSON fields (embedded structs flattened).
func (g *schemaGen) inline(t reflect.Type) map[string]any {
	if t.Kind() != reflect.Struct {
		return g.schemaOf(t)
	}
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schemaOf(f.Type)
	}
}

// componentName is the Go type name with its first letter capitalised (sdkCustomer → SdkCustomer);
// types of packages store and usage are prefixed Store (usage.Recorded → StoreRecorded: usage's
// types keep the names they had in the document when they lived in store), those of api and
// domain are not.
func componentName(t reflect.Type) string {
	r := []rune(t.Name())
	r[0] = unicode.ToUpper(r[0])
	name := string(r)
	if i := strings.IndexByte(name, '['); i >= 0 { // generic instantiations
		name = name[:i]
	}
	if strings.HasSuffix(t.PkgPath(), "/store") || strings.HasSuffix(t.PkgPath(), "/usage") {
		name = "Store" + name
	}
	return name
}

// operationID is method + path in camelCase: "GET /v1/products/{ref}/plans" → getV1ProductsRefPlans.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	up := true
	for _, c := range path {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			up = true
			continue
		}
		if up {
			c = unicode.ToUpper(c)
			up = false
		}
		b.WriteRune(c)
	}
	return b.String()
}
