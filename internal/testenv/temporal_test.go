package testenv

import (
	"context"
	"testing"
	"time"
)

func TestTemporalSharedServer(t *testing.T) {
	c := Temporal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatalf("health: %v", err)
	}
	if a, b := TemporalAddress(t), TemporalAddress(t); a != b || a == "" {
		t.Fatalf("TemporalAddress = %q then %q, want one shared server", a, b)
	}
}
