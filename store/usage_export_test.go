package store

// FullStatementsOnly turns the usage fast path off, so a test can hold it against the full
// statements.
func (s *Store) FullStatementsOnly() { s.usage.off = true }
