package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PaymentFaultWindow is how long a charge fault is reported after its last occurrence.
const PaymentFaultWindow = 15 * time.Minute

// PaymentFault is a run of charge failures at one processor that were not the customer's.
type PaymentFault struct {
	Processor string    `json:"processor"`
	Kind      string    `json:"kind"` // fault (ours or the processor's to fix) or unknown (no answer, 5xx)
	Message   string    `json:"message"`
	Failures  int64     `json:"failures"`
	FirstAt   time.Time `json:"firstAt"`
	LastAt    time.Time `json:"lastAt"`
}

// RecordPaymentFault counts a failed charge attempt against its processor; a run that ended
// more than PaymentFaultWindow ago starts over.
func (s *Store) RecordPaymentFault(ctx context.Context, processor, kind, message string) error {
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO payment_faults (processor, kind, message) VALUES ($1, $2, $3)
		ON CONFLICT (processor) DO UPDATE SET kind = $2, message = $3, last_at = now(),
			failures = CASE WHEN payment_faults.last_at < now() - $4::interval THEN 1 ELSE payment_faults.failures + 1 END,
			first_at = CASE WHEN payment_faults.last_at < now() - $4::interval THEN now() ELSE payment_faults.first_at END`,
		processor, kind, message, PaymentFaultWindow)
	if err != nil {
		return fmt.Errorf("record payment fault: %w", err)
	}
	return nil
}

// RecentPaymentFaults lists the processors with a fault inside PaymentFaultWindow.
func (s *Store) RecentPaymentFaults(ctx context.Context) ([]PaymentFault, error) {
	rows, err := s.Pool.Query(ctx, `SELECT processor, kind, message, failures, first_at, last_at FROM payment_faults
		WHERE last_at >= now() - $1::interval ORDER BY processor`, PaymentFaultWindow)
	if err != nil {
		return nil, fmt.Errorf("read payment faults: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PaymentFault])
}
