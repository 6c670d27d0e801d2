package store

import (
	"context"

	"github.com/tollgate-billing/tollgate/domain"
)

// FullStatementsOnly turns the usage fast path off, so a test can hold it against the full
// statements.
func (s *Store) FullStatementsOnly() { s.usage.off = true }

// GroupedEvents is how many single events were written in a group (usage_group.go).
func (s *Store) GroupedEvents() uint64 { return s.usage.grouped.Load() }

// GroupedReads is how many limit checks were read in a group (usage_limits_group.go).
func (s *Store) GroupedReads() uint64 { return s.usage.groupedReads.Load() }

// RecordGroup writes events as one group of single events (usage_group_sql.go): the answers,
// which events were stored, and false when a version check sent the group back.
func (s *Store) RecordGroup(ctx context.Context, merchant string, events []UsageEvent, ids []string) ([]Recorded, []bool, bool, error) {
	return s.recordGroupFast(ctx, merchant, domain.ModeFrom(ctx), events, ids)
}
