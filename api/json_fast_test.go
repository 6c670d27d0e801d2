package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/usage"
)

// oddAnswer is a bulk answer with what could tell the two encoders apart: duplicates, an empty
// productRef (omitempty), strings with HTML characters, U+2028/U+2029, quotes, control
// characters and non-ASCII, and timestamps with and without fractional seconds, in UTC and not.
func oddAnswer() bulkAnswer {
	paris := time.FixedZone("CET", 3600)
	odd := time.FixedZone("", -(9*3600 + 30*60))
	recs := []usage.Recorded{
		{Ref: "use_1", CustomerRef: "user_1", ProductRef: "prd_x", Meter: "api_requests", Units: 1, Outcome: "success",
			IdempotencyKey: "bulk-1", OccurredAt: time.Date(2026, 2, 11, 9, 30, 0, 0, time.UTC), PeriodStart: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{Ref: "use_1", Duplicate: true, CustomerRef: `<script>"x"&amp;</script>`, Meter: "tool:search", Units: 0, Outcome: "error",
			IdempotencyKey: "k\u2028\u2029\\\"\n\t\x01\x7f", OccurredAt: time.Date(2026, 2, 11, 9, 30, 0, 123456789, paris), PeriodStart: time.Date(2026, 2, 1, 0, 0, 0, 100, odd)},
		{Ref: "use_3", CustomerRef: "café 😀 日本", ProductRef: "", Meter: "tokens", Units: maxEventUnits, Outcome: "timeout",
			IdempotencyKey: "", OccurredAt: time.Date(2026, 2, 11, 9, 30, 0, 120000000, time.UTC), PeriodStart: time.Date(2000, 1, 1, 0, 0, 0, 0, odd)},
	}
	return bulkAnswer{Recorded: 2, Duplicates: 1, Data: recs}
}

func encodeV1(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeFastAsEncodingJSON: the v2 answer means what encoding/json's does — the same
// members and values, and timestamps as the very same strings.
func TestEncodeFastAsEncodingJSON(t *testing.T) {
	for _, v := range []any{oddAnswer(), bulkAnswer{}, oddAnswer().Data[1], oddAnswer().Data[2]} {
		want := encodeV1(t, v)
		var got bytes.Buffer
		if err := encodeFast(&got, v); err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got.Bytes(), &b); err != nil {
			t.Fatalf("%v: %s", err, got.Bytes())
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("v2 answer differs:\n%s\nencoding/json:\n%s", got.Bytes(), want)
		}
		if w, g := rawTimes(t, want), rawTimes(t, got.Bytes()); !reflect.DeepEqual(w, g) {
			t.Fatalf("timestamps differ: %s, encoding/json %s", g, w)
		}
		// With the v1 options the bytes are the same too; nothing relies on it beyond the above.
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("bytes differ:\n%s\nencoding/json:\n%s", got.Bytes(), want)
		}
	}
}

// rawTimes is every timestamp and periodStart of an answer, as the JSON strings written.
func rawTimes(t *testing.T, body []byte) []string {
	t.Helper()
	type times struct {
		Timestamp   json.RawMessage `json:"timestamp"`
		PeriodStart json.RawMessage `json:"periodStart"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	var recs []times
	if data, ok := top["data"]; ok {
		if err := json.Unmarshal(data, &recs); err != nil {
			t.Fatal(err)
		}
	} else {
		var one times
		if err := json.Unmarshal(body, &one); err != nil {
			t.Fatal(err)
		}
		recs = []times{one}
	}
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Timestamp), string(r.PeriodStart))
	}
	return out
}

// TestWriteJSONFast: the whole answer (status, content type, body) is writeJSON's, including
// when the value cannot be encoded (a year past 9999 is no RFC 3339 time) and writeJSON answers.
func TestWriteJSONFast(t *testing.T) {
	bad := oddAnswer()
	bad.Data[0].OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []any{oddAnswer(), oddAnswer().Data[0], bad} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, http.StatusCreated, v)
		writeJSONFast(got, http.StatusCreated, v)
		if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("writeJSONFast %d %v %q, writeJSON %d %v %q", got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}

// TestUsageDecodeAsDecode: the hot path's request decoding (read once, checks, decodeFast)
// answers exactly what decode answers, for the body checks as for the JSON.
func TestUsageDecodeAsDecode(t *testing.T) {
	bodies := []string{``, "  \n", `{"customerRef":"c","units":2}`, `{"CustomerRef":"c"}`, `{"customerRef":"c"}}`, `{"units":1.5}`,
		`{"events":[{"customerRef":"c"}]}`, ` [{"customerRef":"c","metadata":{"a":1,"a":2}}]`, `[{"units":"x"}]`, `{"events":{}}`,
		`[]`, `null`, `{"nope":1}`, `[{"nope":1}]`, strings.Repeat(" ", maxBody) + `{}`}
	types := []string{"application/json", "", "text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json; charset=utf-8", "application/json; x"}
	for _, body := range bodies {
		for _, ct := range types {
			for _, declared := range []bool{true, false} {
				req := func() *http.Request {
					r := httptest.NewRequest("POST", "/v1/usages", strings.NewReader(body))
					if ct != "" {
						r.Header.Set("Content-Type", ct)
					}
					if !declared {
						r.ContentLength = -1
					}
					return r
				}
				var one, oneWant usageInput
				sameAnswer(t, body, ct, decodeUsage(httptest.NewRecorder(), req(), &one), decode(httptest.NewRecorder(), req(), &oneWant, false), one, oneWant)
				var lim, limWant limitsInput
				sameAnswer(t, body, ct, decodeUsage(httptest.NewRecorder(), req(), &lim), decode(httptest.NewRecorder(), req(), &limWant, false), lim, limWant)
				// decodeBulk against what recordBulkUsage did before: peek at the body, decode, and
				// point the errors at events unless they are the Content-Type's.
				var bulk, bulkWant bulkInput
				var target any = &bulkWant
				if t := bytes.TrimSpace([]byte(body)); len(t) > 0 && t[0] == '[' {
					target = &bulkWant.Events
				}
				want := decode(httptest.NewRecorder(), req(), target, false)
				if e := domain.AsError(want); e == nil || e.Field != "Content-Type" {
					want = bulkField(want)
				}
				sameAnswer(t, body, ct, decodeBulk(httptest.NewRecorder(), req(), &bulk), want, bulk, bulkWant)
			}
		}
	}
}

func sameAnswer(t *testing.T, body, ct string, err, want error, got, wantV any) {
	t.Helper()
	if !reflect.DeepEqual(err, want) || !reflect.DeepEqual(got, wantV) {
		if len(body) > 80 {
			body = body[:80] + "…"
		}
		t.Fatalf("%q (%s): %v %#v, decode %v %#v", body, ct, err, got, want, wantV)
	}
}
