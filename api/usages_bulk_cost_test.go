package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/usage"
)

// bulkBody is a realistic bulk call of 1,000 events (about 165 kB).
func bulkBody() []byte {
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	for i := range usage.MaxBulkEvents {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"customerRef":"user_%d","productRef":"prd_x","actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"bulk-%d","metadata":{"route":"/v1/chat"}}`, i, i)
	}
	body.WriteString(`]}`)
	return body.Bytes()
}

// bulkRecords validates in's events and makes the answer a store would give for them.
func bulkRecords(b *testing.B, in bulkInput) []usage.Recorded {
	now := time.Now()
	recs := make([]usage.Recorded, len(in.Events))
	for i, ev := range in.Events {
		e, err := ev.event(now, "")
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = usage.Recorded{Ref: domain.NewRef(domain.PrefixUsage), CustomerRef: e.CustomerRef, ProductRef: e.ProductRef, Meter: "api_requests",
			Units: e.Units, Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, PeriodStart: now}
	}
	return recs
}

// BenchmarkBulkGoSide is the Go-side cost of one bulk call of 1,000 events (no database):
// decoding, validation and the answer's encoding, beside the statement's ~30 ms. It runs the
// handler's path: decodeFast, and encodeFast into a reused buffer as writeJSONFast's pool does.
func BenchmarkBulkGoSide(b *testing.B) {
	raw := bulkBody()
	var out bytes.Buffer
	for b.Loop() {
		var in bulkInput
		if err := decodeFast(raw, &in); err != nil {
			b.Fatal(err)
		}
		out.Reset()
		if err := encodeFast(&out, bulkAnswer{Data: bulkRecords(b, in)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBulkDecode is the decoding of a 1,000-event body alone: encoding/json (the fallback,
// and every other endpoint) against decodeFast.
func BenchmarkBulkDecode(b *testing.B) {
	raw := bulkBody()
	for _, dec := range []struct {
		name string
		fn   func([]byte, *bulkInput) error
	}{{"encoding-json", func(body []byte, in *bulkInput) error { return decodeBytes(body, in) }}, {"fast", decodeFast[bulkInput]}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var in bulkInput
				if err := dec.fn(raw, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBulkEncode is the encoding of a 1,000-event answer alone: writeJSON's encoder against
// encodeFast.
func BenchmarkBulkEncode(b *testing.B) {
	var in bulkInput
	if err := decodeBytes(bulkBody(), &in); err != nil {
		b.Fatal(err)
	}
	answer := bulkAnswer{Recorded: len(in.Events), Data: bulkRecords(b, in)}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			enc := json.NewEncoder(io.Discard)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(answer); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		var out bytes.Buffer
		for b.Loop() {
			out.Reset()
			if err := encodeFast(&out, answer); err != nil {
				b.Fatal(err)
			}
		}
	})
}
