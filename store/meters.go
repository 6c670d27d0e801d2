package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const meterCols = `id, merchant_id, name, description, created_at`

func scanMeter(row pgx.Row) (domain.Meter, error) {
	var m domain.Meter
	err := row.Scan(&m.Ref, &m.MerchantRef, &m.Name, &m.Description, &m.CreatedAt)
	return m, err
}

// meterNameRe admits the default meters, MCP tool meters (tool:{toolName}) and custom names.
var meterNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:\-/]{1,100}$`)

// CreateMeter inserts m (Ref is assigned). A taken name is RESOURCE_ALREADY_EXISTS.
func (s *Store) CreateMeter(ctx context.Context, m domain.Meter) (domain.Meter, error) {
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" {
		return m, domain.Errorf(domain.CodeMissingField, "name", "name is required")
	}
	if !meterNameRe.MatchString(m.Name) {
		return m, domain.Errorf(domain.CodeInvalidField, "name", "a meter name uses letters, digits and _ . : - / (at most 100), not %q", m.Name)
	}
	if err := s.EnsureDefaultMeters(ctx, m.MerchantRef); err != nil {
		return m, err
	}
	m.Ref = domain.NewRef(domain.PrefixMeter)
	out, err := scanMeter(s.Pool.QueryRow(ctx, `INSERT INTO meters (id, merchant_id, name, description) VALUES ($1,$2,$3,$4)
		RETURNING `+meterCols, m.Ref, m.MerchantRef, m.Name, m.Description))
	if isUniqueViolation(err, "") {
		return m, domain.Errorf(domain.CodeAlreadyExists, "name", "a meter named %q already exists", m.Name)
	}
	if err != nil {
		return m, fmt.Errorf("create meter: %w", err)
	}
	return out, nil
}

// EnsureDefaultMeters creates seed 003's default meters for merchant once.
func (s *Store) EnsureDefaultMeters(ctx context.Context, merchant string) error {
	for _, name := range domain.DefaultMeters {
		if _, err := s.Pool.Exec(ctx, `INSERT INTO meters (id, merchant_id, name, description) VALUES ($1,$2,$3,'default meter')
			ON CONFLICT (merchant_id, name) DO NOTHING`, domain.NewRef(domain.PrefixMeter), merchant, name); err != nil {
			return fmt.Errorf("default meters: %w", err)
		}
	}
	return nil
}

// GetMeter finds a meter of merchant by its mtr_ reference or its name.
func (s *Store) GetMeter(ctx context.Context, merchant, refOrName string) (domain.Meter, error) {
	if err := s.EnsureDefaultMeters(ctx, merchant); err != nil {
		return domain.Meter{}, err
	}
	m, err := scanMeter(s.Pool.QueryRow(ctx, `SELECT `+meterCols+` FROM meters WHERE merchant_id = $1 AND (id = $2 OR name = $2)`,
		merchant, refOrName))
	return m, notFoundIfNoRows(err, "meter", refOrName)
}

// ListMeters returns one page of the merchant's meters (the defaults first) and the total.
func (s *Store) ListMeters(ctx context.Context, merchant string, p Page) ([]domain.Meter, int, error) {
	if err := s.EnsureDefaultMeters(ctx, merchant); err != nil {
		return nil, 0, err
	}
	return listPage(ctx, s.Pool, "meters", meterCols, newWhere("merchant_id = $1", merchant), "created_at, id", p, scanMeter)
}

// UpdateMeter changes a meter's description (its name is what usage events and plans refer to).
func (s *Store) UpdateMeter(ctx context.Context, merchant, refOrName, description string) (domain.Meter, error) {
	cur, err := s.GetMeter(ctx, merchant, refOrName)
	if err != nil {
		return cur, err
	}
	m, err := scanMeter(s.Pool.QueryRow(ctx, `UPDATE meters SET description = $3 WHERE merchant_id = $1 AND id = $2
		RETURNING `+meterCols, merchant, cur.Ref, description))
	return m, notFoundIfNoRows(err, "meter", refOrName)
}

// DeleteMeter removes a custom meter that no live plan counts. Default meters stay.
func (s *Store) DeleteMeter(ctx context.Context, merchant, refOrName string) error {
	cur, err := s.GetMeter(ctx, merchant, refOrName)
	if err != nil {
		return err
	}
	for _, d := range domain.DefaultMeters {
		if cur.Name == d {
			return domain.Errorf(domain.CodeConflict, "", "%q is a default meter and cannot be deleted", d)
		}
	}
	var used bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plans WHERE merchant_id = $1 AND meter_name = $2
		AND deleted_at IS NULL)`, merchant, cur.Name).Scan(&used); err != nil {
		return err
	}
	if used {
		return domain.Errorf(domain.CodeConflict, "", "meter %q is counted by a plan; change the plan first", cur.Name)
	}
	_, err = s.Pool.Exec(ctx, `DELETE FROM meters WHERE merchant_id = $1 AND id = $2`, merchant, cur.Ref)
	return err
}

// MeteredUnits reads the usage counter of one customer, product and meter for the period that
// starts at periodStart (the key the usage engine writes under); no counter is zero.
func (s *Store) MeteredUnits(ctx context.Context, merchant, customerRef, productRef, meter string, periodStart time.Time) (int64, error) {
	var units int64
	err := s.Pool.QueryRow(ctx, `SELECT coalesce(sum(units), 0) FROM usage_counters WHERE merchant_id = $1
		AND customer_id = $2 AND product_id = $3 AND meter_name = $4 AND period_start = $5`,
		merchant, customerRef, productRef, meter, periodStart).Scan(&units)
	if err != nil {
		return 0, fmt.Errorf("metered units: %w", err)
	}
	return units, nil
}
