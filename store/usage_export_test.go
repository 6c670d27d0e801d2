package store

// The hot-path statements, for the plan check in usage_explain_test.go.
var (
	RecordSQL     = recordSQL
	LimitStateSQL = limitStateSQL
)
