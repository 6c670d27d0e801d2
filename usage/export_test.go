package usage

import (
	"context"

	"github.com/tollgate-billing/tollgate/domain"
)

// FullStatementsOnly turns the usage fast path off, so a test can hold it against the full
// statements.
func (s *Engine) FullStatementsOnly() { s.cache.off = true }

// GroupedEvents is how many single events were written in a group (group.go).
func (s *Engine) GroupedEvents() uint64 { return s.cache.grouped.Load() }

// GroupedReads is how many limit checks were read in a group (limits_read.go).
func (s *Engine) GroupedReads() uint64 { return s.cache.groupedReads.Load() }

// RecordGroup writes events as one group of single events (group.go): the answers,
// which events were stored, and false when a version check sent the group back.
func (s *Engine) RecordGroup(ctx context.Context, merchant string, events []Event, ids []string) ([]Recorded, []bool, bool, error) {
	return s.groupStatement(ctx, merchant, domain.ModeFrom(ctx), events, ids)
}
