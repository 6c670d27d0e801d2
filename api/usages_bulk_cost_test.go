package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// BenchmarkBulkGoSide is the Go-side cost of one bulk call of 1,000 events (no database):
// decoding, validation and the answer's encoding, beside the statement's ~30 ms.
func BenchmarkBulkGoSide(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	for i := range store.MaxBulkEvents {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"customerRef":"user_%d","productRef":"prd_x","actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"bulk-%d","metadata":{"route":"/v1/chat"}}`, i, i)
	}
	body.WriteString(`]}`)
	raw := body.Bytes()
	for b.Loop() {
		var in bulkInput
		if err := decodeBytes(raw, &in); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		recs := make([]store.Recorded, len(in.Events))
		for i, ev := range in.Events {
			e, err := ev.event(now, "")
			if err != nil {
				b.Fatal(err)
			}
			recs[i] = store.Recorded{Ref: domain.NewRef(domain.PrefixUsage), CustomerRef: e.CustomerRef, ProductRef: e.ProductRef, Meter: "api_requests",
				Units: e.Units, Outcome: e.Outcome, IdempotencyKey: e.IdempotencyKey, OccurredAt: e.OccurredAt, PeriodStart: now}
		}
		enc := json.NewEncoder(io.Discard)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(bulkAnswer{Data: recs}); err != nil {
			b.Fatal(err)
		}
	}
}
