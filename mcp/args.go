package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// args are a tool call's arguments after checking: keyed by the parameter's main name (an alias
// is folded into it), values as JSON. Models sometimes send numbers as strings ("2500"); those
// are turned into numbers here so the strict API accepts them.
type args map[string]json.RawMessage

// parseArgs checks raw against params: a JSON object, no unknown names, the declared types, the
// required ones present, and an alias never contradicting its main name. Failures are the API's
// codes, so the assistant sees one vocabulary.
func parseArgs(raw json.RawMessage, params []param) (args, error) {
	in := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &in); err != nil {
			return nil, invalid("arguments", "arguments must be a JSON object")
		}
	}
	byName := map[string]param{}
	for _, p := range params {
		byName[p.name] = p
		if p.alias != "" {
			byName[p.alias] = p
		}
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	out := args{}
	for _, k := range names {
		p, ok := byName[k]
		if !ok {
			return nil, invalid(k, "unknown parameter %q; this tool accepts %s", k, acceptedNames(params))
		}
		v, err := checkType(k, p, in[k])
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue // null or "" means "not sent"
		}
		if prev, dup := out[p.name]; dup && !bytes.Equal(prev, v) {
			return nil, invalid(p.name, "%s and %s name different values; send one", p.name, p.alias)
		}
		out[p.name] = v
	}
	for _, p := range params {
		if _, ok := out[p.name]; p.required && !ok {
			if p.alias != "" {
				return nil, missing(p.name, "%s (or %s) is required", p.name, p.alias)
			}
			return nil, missing(p.name, "%s is required", p.name)
		}
	}
	return out, nil
}

// nullable parameters keep an explicit null (update_plan's limit: null means unlimited).
var nullable = map[string]bool{"limit": true}

func checkType(name string, p param, v json.RawMessage) (json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	if bytes.Equal(v, []byte("null")) {
		if nullable[p.name] {
			return v, nil
		}
		return nil, nil
	}
	if bytes.Equal(v, []byte(`""`)) {
		return nil, nil // forms (the Inspector's among them) send "" for a field left blank
	}
	switch p.typ {
	case tString:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid(name, "%s must be a string", name)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		if len(p.enum) > 0 && !slices.Contains(p.enum, s) {
			return nil, invalid(name, "%s must be one of %s, not %q", name, strings.Join(p.enum, ", "), s)
		}
		b, _ := json.Marshal(s)
		return b, nil
	case tInteger:
		var s string
		if json.Unmarshal(v, &s) == nil {
			v = json.RawMessage(strings.TrimSpace(s))
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			// 25.0 is a whole number a model may well send.
			f, ferr := strconv.ParseFloat(string(v), 64)
			if ferr != nil || f != float64(int64(f)) {
				return nil, invalid(name, "%s must be a whole number (amounts are in minor units: 2500 = 25.00)", name)
			}
			n = int64(f)
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	case tBoolean:
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			var s string
			if json.Unmarshal(v, &s) != nil || (s != "true" && s != "false") {
				return nil, invalid(name, "%s must be true or false", name)
			}
			b = s == "true"
		}
		return json.RawMessage(strconv.FormatBool(b)), nil
	case tObject:
		if len(v) == 0 || v[0] != '{' {
			return nil, invalid(name, "%s must be an object", name)
		}
	case tArray:
		if len(v) == 0 || v[0] != '[' {
			return nil, invalid(name, "%s must be an array", name)
		}
	}
	return v, nil
}

func acceptedNames(params []param) string {
	var names []string
	for _, p := range params {
		names = append(names, p.name)
		if p.alias != "" {
			names = append(names, p.alias)
		}
	}
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}

func (a args) has(name string) bool { _, ok := a[name]; return ok }

// str is a string parameter ("" when absent).
func (a args) str(name string) string {
	var s string
	if v, ok := a[name]; ok {
		_ = json.Unmarshal(v, &s)
	}
	return s
}

// int is an integer parameter and whether it was sent.
func (a args) int(name string) (int64, bool) {
	v, ok := a[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

// body is the JSON object of the named parameters that were sent, under their main names.
func (a args) body(names ...string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, n := range names {
		if v, ok := a[n]; ok {
			out[n] = v
		}
	}
	return out
}

// query is the named parameters that were sent, as URL query values.
func (a args) query(names ...string) url.Values {
	q := url.Values{}
	for _, n := range names {
		v, ok := a[n]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		q.Set(n, s)
	}
	return q
}

// ref is a reference parameter made safe for a URL path segment. "." and ".." would be cleaned
// out of the path by the router, so they are refused rather than escaped.
func (a args) ref(name string) (string, error) {
	s := a.str(name)
	if s == "" {
		return "", missing(name, "%s is required", name)
	}
	if s == "." || s == ".." || len(s) > 255 || strings.ContainsAny(s, "\x00\r\n") {
		return "", invalid(name, "%s is not a valid reference", name)
	}
	return url.PathEscape(s), nil
}

func invalid(field, format string, v ...any) *apiError {
	return &apiError{Type: "invalid_request_error", Code: "INVALID_FIELD", Field: field, Message: fmt.Sprintf(format, v...)}
}

func missing(field, format string, v ...any) *apiError {
	return &apiError{Type: "invalid_request_error", Code: "MISSING_FIELD", Field: field, Message: fmt.Sprintf(format, v...)}
}
