package starter_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// holdingReceiver is a webhook endpoint on loopback that verifies every delivery with the
// Standard Webhooks library and counts the verified receipts of each webhook-id. While holding,
// it keeps every third request open (no answer) until release, so attempts are in flight.
type holdingReceiver struct {
	wh      *standardwebhooks.Webhook
	mu      sync.Mutex
	got     map[string]int // webhook-id → verified receipts
	bad     int
	seen    int
	held    int // requests open now
	holding bool
	release chan struct{}
	conns   int // connections open now
}

func (r *holdingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var ev struct{ Reference string }
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	if r.wh.Verify(body, req.Header) != nil || json.Unmarshal(body, &ev) != nil || ev.Reference != id {
		r.bad++
		r.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got[id]++
	r.seen++
	hold := r.holding && r.seen%3 == 0
	if hold {
		r.held++
	}
	release := r.release
	r.mu.Unlock()
	if hold {
		select {
		case <-release:
		case <-req.Context().Done():
		}
		r.mu.Lock()
		r.held--
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *holdingReceiver) state(c net.Conn, s http.ConnState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch s {
	case http.StateNew:
		r.conns++
	case http.StateClosed, http.StateHijacked:
		r.conns--
	}
}

func (r *holdingReceiver) with(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn()
}

// A burst of events is being delivered when the worker process (worker and relay) is SIGKILLed
// with deliveries in flight — requests the receiver holds open — and another is started. Every
// event still reaches the receiver with a valid signature; an event is received twice only if
// it was received before the kill and its delivery was not yet recorded as succeeded (the
// killed worker never saw or recorded the answer), so duplicates are bounded by those.
func TestWorkerKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 120
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s, env := newFaultStack(t, ctx)

	secret := webhooks.NewSecret()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &holdingReceiver{wh: wh, got: map[string]int{}, holding: true, release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rc, ConnState: rc.state}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if _, err := s.st.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{MerchantRef: s.merchant, Mode: domain.ModeSandbox,
		URL: "http://" + ln.Addr().String() + "/hooks", EnabledEvents: []string{domain.EventCustomerCreated}, Enabled: true},
		secret); err != nil {
		t.Fatal(err)
	}

	child := startChildWorker(t, env)
	// the customers (each a customer.created event) are created while the killer below watches
	// the receiver, so the kill lands in the middle of the burst
	created := make(chan struct{})
	go func() {
		defer close(created)
		parallel(t, n, func(int) error {
			_, err := s.st.CreateCustomer(ctx, domain.Customer{MerchantRef: s.merchant, Email: "c@example.com"})
			return err
		})
	}()
	within(t, time.Minute, "deliveries held open", func() bool {
		var held int
		rc.with(func() { held = rc.held })
		return held >= 3
	})
	// the requests held now stay unanswered until the kill (the connections closing end them)
	var heldAtKill, receivedAtKill int
	rc.with(func() { heldAtKill = rc.held })
	child.kill(t)
	rc.with(func() {
		receivedAtKill = len(rc.got)
		rc.holding = false
		close(rc.release)
	})
	if heldAtKill == 0 {
		t.Fatal("no delivery was in flight at the kill")
	}
	// every connection of the killed worker is closed once the receiver has read all it sent
	within(t, time.Minute, "the killed worker's connections to close", func() bool {
		var conns int
		rc.with(func() { conns = rc.conns })
		return conns == 0
	})
	// what was received and not recorded as succeeded may be sent again: the killed worker
	// never saw the answer, or never recorded it
	unconfirmed := map[string]bool{}
	succeeded := map[string]bool{}
	for _, ref := range column(t, s, `SELECT event_id FROM webhook_deliveries WHERE status = 'succeeded'`) {
		succeeded[ref] = true
	}
	rc.with(func() {
		for ref := range rc.got {
			if !succeeded[ref] {
				unconfirmed[ref] = true
			}
		}
	})
	child = startChildWorker(t, env)
	<-created

	events := column(t, s, `SELECT id FROM events WHERE merchant_id = $1 AND type = $2`, s.merchant, domain.EventCustomerCreated)
	if len(events) != n {
		t.Fatalf("%d events of %d customers", len(events), n)
	}
	// none lost: every event reaches the receiver (after an attempt killed mid-request, the next
	// comes when the attempt times out and its retry wait has passed)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var missing []string
		rc.with(func() {
			for _, ref := range events {
				if rc.got[ref] == 0 {
					missing = append(missing, ref)
				}
			}
		})
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never delivered, e.g. %s\n%s", len(missing), n, missing[0], child.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var pending int
	within(t, time.Minute, "every delivery recorded as succeeded", func() bool {
		err := s.st.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'`).Scan(&pending)
		return err == nil && pending == 0
	})

	dup := 0
	rc.with(func() {
		if rc.bad != 0 {
			t.Errorf("%d deliveries failed verification", rc.bad)
		}
		if len(rc.got) != n {
			t.Errorf("the receiver got %d webhook-ids, want the %d events", len(rc.got), n)
		}
		for ref, k := range rc.got {
			dup += k - 1
			if k > 1 && !unconfirmed[ref] {
				t.Errorf("%s received %d times, though its delivery was confirmed before the kill or began after it", ref, k)
			}
		}
	})
	if dup > len(unconfirmed) {
		t.Errorf("%d duplicates, more than the %d deliveries unconfirmed at the kill", dup, len(unconfirmed))
	}
	t.Logf("%d events; at the kill %d received, %d requests held open, %d received and not recorded; %d duplicates; none lost",
		n, receivedAtKill, heldAtKill, len(unconfirmed), dup)
}

// column answers the one text column of a query's rows.
func column(t *testing.T, s *stack, query string, args ...any) []string {
	t.Helper()
	rows, err := s.st.Pool.Query(s.ctx, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
