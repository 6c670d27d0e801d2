package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Bill names the usage a renewal bills: one customer, product and meter, the counters of
// the periods from Since (the purchase's first paid period) to PeriodStart (the period that
// ends).
type Bill struct {
	MerchantRef, CustomerRef, ProductRef, Meter string
	Since, PeriodStart                          time.Time
	// Key names a bill made inside the period (a plan change's); empty for the renewal's.
	Key string
}

// BillPeriod answers the units to bill for the period that starts at b.PeriodStart: every unit
// its purchase's counters hold that no earlier bill took (the period's own, and units recorded
// in earlier periods after their bill ran). It marks them billed in the same transaction, so a
// unit is billed once; an event recorded meanwhile waits on the counter's row lock and counts
// with the next bill. The same bill asked again (a retried activity) answers the same units.
func BillPeriod(ctx context.Context, pool *pgxpool.Pool, b Bill) (int64, error) {
	var units int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT units FROM usage_bills WHERE merchant_id = $1 AND customer_id = $2
			AND product_id = $3 AND meter_name = $4 AND period_start = $5 AND bill_key = $6`,
			b.MerchantRef, b.CustomerRef, b.ProductRef, b.Meter, b.PeriodStart, b.Key).Scan(&units)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := lockCounters(ctx, tx, b.MerchantRef); err != nil { // before any counter row: as batches do
			return err
		}
		ids, err := dueCounters(ctx, tx, b, &units)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE usage_counters SET billed = units WHERE id = ANY($1)`, ids); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO usage_bills (merchant_id, customer_id, product_id, meter_name, period_start, units, bill_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, b.MerchantRef, b.CustomerRef, b.ProductRef, b.Meter, b.PeriodStart, units, b.Key)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bill usage: %w", err)
	}
	return units, nil
}

// dueCounters locks the counters of b that hold unbilled units and adds those units to units.
// Locked, their units cannot change until the transaction ends.
func dueCounters(ctx context.Context, tx pgx.Tx, b Bill, units *int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, units - billed `+unbilledCounters+` FOR UPDATE`, b.counterArgs()...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	var id, due int64
	_, err = pgx.ForEachRow(rows, []any{&id, &due}, func() error {
		ids, *units = append(ids, id), *units+due
		return nil
	})
	return ids, err
}

// UnbilledUnits answers the units BillPeriod would bill now, changing nothing (a change's preview).
func UnbilledUnits(ctx context.Context, pool *pgxpool.Pool, b Bill) (int64, error) {
	var units int64
	err := pool.QueryRow(ctx, `SELECT COALESCE(sum(units - billed), 0) `+unbilledCounters, b.counterArgs()...).Scan(&units)
	if err != nil {
		return 0, fmt.Errorf("unbilled usage: %w", err)
	}
	return units, nil
}

// unbilledCounters are the counters of a bill (counterArgs) that hold units no bill took yet:
// the rows BillPeriod bills and UnbilledUnits sums, so a preview counts what the bill will.
const unbilledCounters = `FROM usage_counters
	WHERE merchant_id = $1 AND customer_id = $2 AND product_id = $3 AND meter_name = $4
	AND period_start >= $5 AND period_start <= $6 AND units > billed`

// counterArgs are unbilledCounters' arguments: the periods from Since (PeriodStart alone when
// Since is zero or after it) to PeriodStart.
func (b Bill) counterArgs() []any {
	since := b.Since
	if since.IsZero() || since.After(b.PeriodStart) {
		since = b.PeriodStart
	}
	return []any{b.MerchantRef, b.CustomerRef, b.ProductRef, b.Meter, since, b.PeriodStart}
}
