package usage

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The batch gate lets maxBatches batches in at once; the next one waits for a release, or
// gives up with its caller's context.
func TestBatchGateBoundsBatchesInFlight(t *testing.T) {
	var g batchGate
	var releases []func()
	for range maxBatches {
		release, err := g.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("batch %d got in: %v", maxBatches+1, err)
	}
	got := make(chan error, 1)
	go func() {
		release, err := g.acquire(context.Background())
		if err == nil {
			release()
		}
		got <- err
	}()
	releases[0]()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a released slot was not taken")
	}
}
