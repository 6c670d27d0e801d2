//go:build !fuzzonly

package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// TestUsageSurvivesPostgresRestart restarts Postgres (pg_ctl restart) under a usage load: every
// event acknowledged with a 2xx must be stored exactly once and counted, and during the outage
// clients must get 503 with Retry-After quickly, not hang.
func TestUsageSurvivesPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the shared test cluster")
	}
	ctx := context.Background()
	st := testenv.Postgres(t)
	merchant, apiKey := testenv.Merchant(t, st, "Acme")
	c, err := st.CreateCustomer(ctx, domain.Customer{MerchantRef: merchant, Email: "c@x.io", ExternalRef: "user_1"})
	if err != nil {
		t.Fatal(err)
	}
	prd, err := st.CreateProduct(ctx, domain.Product{MerchantRef: merchant, Name: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreatePlan(ctx, domain.Plan{MerchantRef: merchant, ProductRef: prd.Ref, Name: "Free", Type: domain.PlanFree}); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(api.New(api.Config{Store: st, Logger: logger}))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	var ( // guarded by mu
		mu        sync.Mutex
		acked     = map[string]bool{}
		statuses  = map[int]int{}
		slowest   time.Duration
		noRetryAt int
		transport int
	)
	send := func(event string) (done bool) {
		body := fmt.Sprintf(`{"customerRef":%q,"productRef":%q,"actionType":"api_call","units":1,"idempotencyKey":%q}`, c.Ref, prd.Ref, event)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/usages", bytes.NewBufferString(body))
		req.Header.Set("X-API-KEY", apiKey)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		slowest = max(slowest, took)
		if err != nil {
			transport++
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			noRetryAt++
		}
		if resp.StatusCode/100 == 2 {
			acked[event] = true
			return true
		}
		return false
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d-%d", w, i)
				// a client retries its event (same key) a few times, as Retry-After asks
				for attempt := 0; attempt < 3 && !send(k); attempt++ {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	restartCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t0 := time.Now()
	err = testenv.PostgresCluster(t).Restart(restartCtx)
	t.Logf("pg_ctl restart took %v", time.Since(t0))
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("answers %v, transport errors %d, slowest %v, acknowledged %d", statuses, transport, slowest, len(acked))
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 during the restart")
	}
	if noRetryAt > 0 {
		t.Errorf("%d answers of 503 without Retry-After", noRetryAt)
	}
	if statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("%d answers of 500 (a database outage must be 503):\n%s", statuses[http.StatusInternalServerError], logs.String())
	}
	if slowest > 4*time.Second {
		t.Errorf("a request took %v: clients must not hang while Postgres restarts", slowest)
	}
	keys := slices.Collect(maps.Keys(acked))
	var stored int
	var counted int64
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE merchant_id = $1 AND idempotency_key = ANY($2)`, merchant, keys).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != len(acked) {
		t.Errorf("%d acknowledged events, %d stored", len(acked), stored)
	}
	var total int
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM usage_events WHERE merchant_id = $1),
		(SELECT coalesce(sum(units), 0) FROM usage_counters WHERE merchant_id = $1)`, merchant).Scan(&total, &counted); err != nil {
		t.Fatal(err)
	}
	if int64(total) != counted {
		t.Errorf("events %d but counters %d: an event and its count must commit together", total, counted)
	}
}
