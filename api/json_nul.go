package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tollgate-billing/tollgate/domain"
)

// refuseNUL refuses a body that decoded fine but holds the character U+0000 in a string or a
// member name: Postgres stores no NUL in text or jsonb, so the write would fail later as an
// internal error. The field named is one that holds it, as the client spelt it; members are
// searched in name order, so a body with several always names the same one.
func refuseNUL(body []byte) error {
	if !hasNULEscape(body) {
		return nil
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil // decoded by the caller already; nothing more to say
	}
	field, found := nulPath(doc, "")
	if !found {
		return nil
	}
	if field == "" {
		field = "body"
	}
	return domain.Errorf(domain.CodeInvalidField, field, "text cannot contain the character U+0000 (\\u0000)")
}

// hasNULEscape reports whether body holds the escape \u0000 itself (not an escaped backslash
// followed by "u0000"); in valid JSON that is the only way to write a NUL.
func hasNULEscape(body []byte) bool {
	const esc = `\u0000`
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(esc))
		if j < 0 {
			return false
		}
		j += i
		backslashes := 0
		for k := j - 1; k >= 0 && body[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return true
		}
		i = j + 1
	}
}

// nulPath finds a string or member name holding a NUL in a decoded document: the first in
// array order and member-name order.
func nulPath(v any, path string) (string, bool) {
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, e := range x {
			if p, ok := nulPath(e, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if strings.IndexByte(k, 0) >= 0 {
				return path, true
			}
			if p, ok := nulPath(x[k], join(k)); ok {
				return p, true
			}
		}
	}
	return "", false
}
