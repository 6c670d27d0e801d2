package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const planCols = `id, merchant_id, product_id, name, type, price, currency, billing_cycle, cycle_days, trial_days,
	free_units, usage_limit, unit_price, meter_name, setup_fee, access_days, features, is_default, status, created_at, updated_at,
	per_seat, limits_per_seat`

func scanPlan(row pgx.Row) (domain.Plan, error) {
	var p domain.Plan
	var typ, cycle string
	err := row.Scan(&p.Ref, &p.MerchantRef, &p.ProductRef, &p.Name, &typ, &p.Price, &p.Currency, &cycle, &p.CycleDays,
		&p.TrialDays, &p.FreeUnits, &p.Limit, &p.UnitPrice, &p.Meter, &p.SetupFee, &p.AccessDays, &p.Features,
		&p.IsDefault, &p.Status, &p.CreatedAt, &p.UpdatedAt, &p.PerSeat, &p.LimitsPerSeat)
	p.Type, p.BillingCycle = domain.PlanType(typ), domain.BillingCycle(cycle)
	return p, err
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// DefaultPlanMeter is the meter a usage-based or hybrid plan counts when none is named (one of
// seed 003's default meters).
const DefaultPlanMeter = "api_requests"

// ValidatePlan checks a plan's fields and fills the defaults (status, currency case, billing
// cycle, meter). Exported so the API can answer with the same messages before writing.
func ValidatePlan(p *domain.Plan) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return domain.Errorf(domain.CodeMissingField, "name", "name is required")
	}
	switch p.Type {
	case domain.PlanRecurring, domain.PlanUsageBased, domain.PlanHybrid, domain.PlanOneTime, domain.PlanFree:
	case "":
		return domain.Errorf(domain.CodeMissingField, "type", "type is required (recurring, usage-based, hybrid, one-time or free)")
	default:
		return domain.Errorf(domain.CodeInvalidField, "type", "type must be recurring, usage-based, hybrid, one-time or free, not %q", p.Type)
	}
	p.Currency = strings.ToUpper(defaultStr(p.Currency, "USD"))
	if !currencyRe.MatchString(p.Currency) {
		return domain.Errorf(domain.CodeInvalidField, "currency", "currency must be an ISO 4217 code such as USD, not %q", p.Currency)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"price", p.Price}, {"freeUnits", p.FreeUnits}, {"unitPrice", p.UnitPrice}, {"setupFee", p.SetupFee},
		{"trialDays", int64(p.TrialDays)}, {"accessDays", int64(p.AccessDays)}, {"cycleDays", int64(p.CycleDays)}} {
		if f.v < 0 {
			return domain.Errorf(domain.CodeInvalidField, f.name, "%s must not be negative", f.name)
		}
	}
	if p.Limit != nil && *p.Limit < 0 {
		return domain.Errorf(domain.CodeInvalidField, "limit", "limit must not be negative")
	}
	switch p.Type {
	case domain.PlanOneTime:
		if p.BillingCycle != "" {
			return domain.Errorf(domain.CodeInvalidField, "billingCycle", "a one-time plan has no billing cycle")
		}
		if p.TrialDays > 0 {
			return domain.Errorf(domain.CodeInvalidField, "trialDays", "a one-time plan has no trial")
		}
	case domain.PlanFree:
		if p.Price != 0 || p.UnitPrice != 0 || p.SetupFee != 0 {
			return domain.Errorf(domain.CodeInvalidField, "price", "a free plan has no price")
		}
	default: // recurring, usage-based, hybrid renew every period
		if p.AccessDays != 0 {
			return domain.Errorf(domain.CodeInvalidField, "accessDays", "accessDays applies to one-time plans only")
		}
	}
	// Free plans keep a cycle too: the period is what usage limits reset on.
	if p.Type != domain.PlanOneTime {
		if p.BillingCycle == "" {
			p.BillingCycle = domain.CycleMonthly
		}
		switch p.BillingCycle {
		case domain.CycleWeekly, domain.CycleMonthly, domain.CycleQuarterly, domain.CycleYearly:
			p.CycleDays = 0
		case domain.CycleCustom:
			if p.CycleDays < 1 {
				return domain.Errorf(domain.CodeInvalidField, "cycleDays", "a custom billing cycle needs cycleDays of at least 1")
			}
		default:
			return domain.Errorf(domain.CodeInvalidField, "billingCycle",
				"billingCycle must be weekly, monthly, quarterly, yearly or custom, not %q", p.BillingCycle)
		}
	}
	if p.Metered() && p.Meter == "" {
		p.Meter = DefaultPlanMeter
	}
	if p.Features == nil {
		p.Features = []string{}
	}
	p.Status = defaultStr(p.Status, domain.StatusActive)
	if !validCatalogStatus(p.Status) {
		return domain.Errorf(domain.CodeInvalidField, "status", "status must be active, inactive or archived, not %q", p.Status)
	}
	if p.LimitsPerSeat && !p.PerSeat {
		return domain.Errorf(domain.CodeInvalidField, "limitsPerSeat", "limitsPerSeat needs a plan priced per seat (perSeat)")
	}
	if p.PerSeat && (p.Type == domain.PlanUsageBased || p.Type == domain.PlanFree) {
		return domain.Errorf(domain.CodeInvalidField, "perSeat", "a %s plan has no price to charge per seat", p.Type)
	}
	if p.IsDefault && p.Status != domain.StatusActive {
		return domain.Errorf(domain.CodeInvalidField, "isDefault", "only an active plan can be the default")
	}
	return nil
}

// CreatePlan inserts p under its product (Ref is assigned). The product's first plan becomes
// its default; a plan created with IsDefault takes the default from the previous one.
func (s *Store) CreatePlan(ctx context.Context, p domain.Plan) (domain.Plan, error) {
	if err := ValidatePlan(&p); err != nil {
		return p, err
	}
	p.Ref = domain.NewRef(domain.PrefixPlan)
	var out domain.Plan
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockProduct(ctx, tx, p.MerchantRef, p.ProductRef); err != nil {
			return err
		}
		if !p.IsDefault && p.Status == domain.StatusActive {
			var has bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plans WHERE product_id = $1 AND is_default
				AND deleted_at IS NULL)`, p.ProductRef).Scan(&has); err != nil {
				return err
			}
			p.IsDefault = !has
		}
		if p.IsDefault {
			if err := clearDefault(ctx, tx, p.ProductRef); err != nil {
				return err
			}
		}
		var err error
		out, err = scanPlan(tx.QueryRow(ctx, `INSERT INTO plans (id, merchant_id, product_id, name, type, price, currency,
			billing_cycle, cycle_days, trial_days, free_units, usage_limit, unit_price, meter_name, setup_fee, access_days,
			features, is_default, status, per_seat, limits_per_seat)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
			RETURNING `+planCols, p.Ref, p.MerchantRef, p.ProductRef, p.Name, string(p.Type), p.Price, p.Currency,
			string(p.BillingCycle), p.CycleDays, p.TrialDays, p.FreeUnits, p.Limit, p.UnitPrice, p.Meter, p.SetupFee,
			p.AccessDays, p.Features, p.IsDefault, p.Status, p.PerSeat, p.LimitsPerSeat))
		return err
	})
	if err != nil {
		if domain.AsError(err) != nil {
			return p, err
		}
		return p, fmt.Errorf("create plan: %w", err)
	}
	return out, nil
}

// lockProduct checks the product is the merchant's and live, and serialises default changes on it.
func lockProduct(ctx context.Context, tx pgx.Tx, merchant, productRef string) error {
	if productRef == "" {
		return domain.Errorf(domain.CodeMissingField, "productRef", "productRef is required")
	}
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM products WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
		merchant, productRef).Scan(&id)
	return notFoundIfNoRows(err, "product", productRef)
}

func clearDefault(ctx context.Context, tx pgx.Tx, productRef string) error {
	_, err := tx.Exec(ctx, `UPDATE plans SET is_default = false, updated_at = now()
		WHERE product_id = $1 AND is_default AND deleted_at IS NULL`, productRef)
	return err
}

// GetPlan finds a live plan of merchant. Another merchant's plan is not found.
func (s *Store) GetPlan(ctx context.Context, merchant, ref string) (domain.Plan, error) {
	p, err := scanPlan(s.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM plans
		WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`, merchant, ref))
	return p, notFoundIfNoRows(err, "plan", ref)
}

// GetPlanAnyState finds a plan even when deleted: a running purchase keeps the plan it was bought with.
func (s *Store) GetPlanAnyState(ctx context.Context, merchant, ref string) (domain.Plan, error) {
	p, err := scanPlan(s.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM plans WHERE merchant_id = $1 AND id = $2`, merchant, ref))
	return p, notFoundIfNoRows(err, "plan", ref)
}

// DefaultPlan returns the product's default plan.
func (s *Store) DefaultPlan(ctx context.Context, merchant, productRef string) (domain.Plan, error) {
	p, err := scanPlan(s.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM plans
		WHERE merchant_id = $1 AND product_id = $2 AND is_default AND deleted_at IS NULL`, merchant, productRef))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, domain.Errorf(domain.CodeNotFound, "productRef", "product %q has no default plan", productRef)
	}
	return p, err
}

// ListPlans returns one page of the merchant's plans, of one product when productRef is set,
// oldest first, and the total.
func (s *Store) ListPlans(ctx context.Context, merchant, productRef string, p Page) ([]domain.Plan, int, error) {
	return s.ListPlansFiltered(ctx, merchant, PlanFilter{ProductRef: productRef}, p)
}

// PlanFilter narrows ListPlansFiltered. Empty fields do not filter.
type PlanFilter struct {
	ProductRef string
	Status     string
	Type       domain.PlanType
}

// ListPlansFiltered is ListPlans with status and type filters.
func (s *Store) ListPlansFiltered(ctx context.Context, merchant string, f PlanFilter, p Page) ([]domain.Plan, int, error) {
	q := newWhere("merchant_id = $1 AND deleted_at IS NULL", merchant)
	if f.ProductRef != "" {
		q.add("product_id = $%d", f.ProductRef)
	}
	if f.Status != "" {
		q.add("status = $%d", f.Status)
	}
	if f.Type != "" {
		q.add("type = $%d", string(f.Type))
	}
	return listPage(ctx, s.Pool, "plans", planCols, q, "created_at, id", p, scanPlan)
}

// PlanPatch holds the fields an update may change; nil leaves a field as it is.
type PlanPatch struct {
	Name         *string
	Type         *domain.PlanType
	Price        *int64
	Currency     *string
	BillingCycle *domain.BillingCycle
	CycleDays    *int
	TrialDays    *int
	FreeUnits    *int64
	Limit        *int64
	ClearLimit   bool // remove the usage limit (unlimited)
	UnitPrice    *int64
	Meter        *string
	SetupFee     *int64
	AccessDays   *int
	Features     []string
	IsDefault    *bool
	Status       *string
	// PerSeat and LimitsPerSeat apply to purchases made after the change; running ones keep the
	// plan they were bought with.
	PerSeat       *bool
	LimitsPerSeat *bool
}

// Apply returns pl with the patch's fields set: what UpdatePlan stores, so callers can check
// the resulting plan before anything is written.
func (p PlanPatch) Apply(pl domain.Plan) domain.Plan {
	setIf(&pl.Name, p.Name)
	setIf(&pl.Type, p.Type)
	setIf(&pl.Price, p.Price)
	setIf(&pl.Currency, p.Currency)
	setIf(&pl.BillingCycle, p.BillingCycle)
	setIf(&pl.CycleDays, p.CycleDays)
	setIf(&pl.TrialDays, p.TrialDays)
	setIf(&pl.FreeUnits, p.FreeUnits)
	if p.Limit != nil {
		pl.Limit = p.Limit
	}
	if p.ClearLimit {
		pl.Limit = nil
	}
	setIf(&pl.UnitPrice, p.UnitPrice)
	setIf(&pl.Meter, p.Meter)
	setIf(&pl.SetupFee, p.SetupFee)
	setIf(&pl.AccessDays, p.AccessDays)
	if p.Features != nil {
		pl.Features = p.Features
	}
	setIf(&pl.IsDefault, p.IsDefault)
	setIf(&pl.Status, p.Status)
	setIf(&pl.PerSeat, p.PerSeat)
	setIf(&pl.LimitsPerSeat, p.LimitsPerSeat)
	return pl
}

// UpdatePlan applies patch to the plan. Running purchases are not repriced: their workflows
// carry the plan they were bought with. Making a plan default takes the default from the
// previous one; a default plan cannot be un-defaulted or deactivated except by making another
// plan default.
func (s *Store) UpdatePlan(ctx context.Context, merchant, ref string, patch PlanPatch) (domain.Plan, error) {
	cur, err := s.GetPlan(ctx, merchant, ref)
	if err != nil {
		return cur, err
	}
	wasDefault := cur.IsDefault
	cur = patch.Apply(cur)
	if wasDefault && !cur.IsDefault {
		return cur, domain.Errorf(domain.CodeInvalidField, "isDefault", "a product keeps one default plan: make another plan the default instead")
	}
	if err := ValidatePlan(&cur); err != nil {
		return cur, err
	}
	var out domain.Plan
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockProduct(ctx, tx, merchant, cur.ProductRef); err != nil {
			return err
		}
		if cur.IsDefault && !wasDefault {
			if err := clearDefault(ctx, tx, cur.ProductRef); err != nil {
				return err
			}
		}
		var err error
		out, err = scanPlan(tx.QueryRow(ctx, `UPDATE plans SET name=$3, type=$4, price=$5, currency=$6, billing_cycle=$7,
			cycle_days=$8, trial_days=$9, free_units=$10, usage_limit=$11, unit_price=$12, meter_name=$13, setup_fee=$14,
			access_days=$15, features=$16, is_default=$17, status=$18, per_seat=$19, limits_per_seat=$20, updated_at=now()
			WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING `+planCols,
			merchant, cur.Ref, cur.Name, string(cur.Type), cur.Price, cur.Currency, string(cur.BillingCycle), cur.CycleDays,
			cur.TrialDays, cur.FreeUnits, cur.Limit, cur.UnitPrice, cur.Meter, cur.SetupFee, cur.AccessDays, cur.Features,
			cur.IsDefault, cur.Status, cur.PerSeat, cur.LimitsPerSeat))
		return notFoundIfNoRows(err, "plan", ref)
	})
	return out, err
}

// DeletePlan soft-deletes the plan. When it was the default, the oldest remaining active plan
// of the product becomes the default, so a product keeps one while it has any.
func (s *Store) DeletePlan(ctx context.Context, merchant, ref string) error {
	cur, err := s.GetPlan(ctx, merchant, ref)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockProduct(ctx, tx, merchant, cur.ProductRef); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE plans SET deleted_at = now(), is_default = false, updated_at = now()
			WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`, merchant, ref)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("plan", ref)
		}
		if !cur.IsDefault {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE plans SET is_default = true, updated_at = now() WHERE id = (
			SELECT id FROM plans WHERE product_id = $1 AND deleted_at IS NULL AND status = 'active'
			ORDER BY created_at, id LIMIT 1)`, cur.ProductRef)
		return err
	})
}
