package api

import (
	"bytes"
	"net/http"
)

// The usage hot path reads its body once (readBody, sized from Content-Length), applies decode's
// checks (size, content type, body required) unchanged, and decodes with decodeFast. A bulk body
// was once decoded twice, first into a json.RawMessage to see whether it is an object or a bare
// array; looking at its first byte does the same.

// decodeUsage is decode (allowEmpty false) for POST /v1/usages and POST /v1/limits.
func decodeUsage[T any](w http.ResponseWriter, r *http.Request, v *T) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if _, err := checkBody(r, body, false); err != nil {
		return err
	}
	return decodeFast(body, v)
}

// decodeBulk is decode for POST /v1/usages/bulk: {"events":[…]} or a bare array of events.
// Only the JSON's own errors go through bulkField; those of reading and checking the body
// (body, Content-Type) name what they name.
func decodeBulk(w http.ResponseWriter, r *http.Request, in *bulkInput) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if _, err := checkBody(r, body, false); err != nil {
		return err
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
		return bulkField(decodeFast(body, &in.Events))
	}
	return bulkField(decodeFast(body, in))
}
