package store

// RecordBulkSQL is the set-based batch statement, for usage_bulk_test.go.
var RecordBulkSQL = recordBulkSQL

// RecordOneSQL is the single-event statement, for usage_bulk_test.go.
var RecordOneSQL = recordOneSQL
