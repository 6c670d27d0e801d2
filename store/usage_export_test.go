package store

// The hot-path statements, for the plan check in usage_explain_test.go.
var (
	RecordSQL     = recordSQL
	LimitStateSQL = limitStateSQL
)

// FullStatementsOnly turns the usage fast path off, so a test can hold it against the full
// statements.
func (s *Store) FullStatementsOnly() { s.usage.off = true }
