package store

// FullStatementsOnly turns the usage fast path off, so a test can hold it against the full
// statements.
func (s *Store) FullStatementsOnly() { s.usage.off = true }

// GroupedEvents is how many single events were written in a group (usage_group.go).
func (s *Store) GroupedEvents() uint64 { return s.usage.grouped.Load() }

// GroupedReads is how many limit checks were read in a group (usage_limits_group.go).
func (s *Store) GroupedReads() uint64 { return s.usage.groupedReads.Load() }
