package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// maxAmount caps every amount in minor units (a trillion cents): far above any real charge, far
// below where sums of many amounts could overflow int64.
const maxAmount int64 = 1_000_000_000_000

// alias picks one value from two accepted spellings of a field (the seeds use both, e.g.
// customerRef and customerId). Sending both with different values is refused.
func alias(name, a, otherName, b string) (string, error) {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a != "" && b != "" && a != b {
		return "", domain.Errorf(domain.CodeInvalidField, name, "%s and %s name different objects; send one", name, otherName)
	}
	if a != "" {
		return a, nil
	}
	return b, nil
}

// requiredAlias is alias for a reference that must be sent in one of its two spellings.
func requiredAlias(name, a, otherName, b string) (string, error) {
	v, err := alias(name, a, otherName, b)
	if err == nil && v == "" {
		err = domain.Errorf(domain.CodeMissingField, name, "%s (or %s) is required", name, otherName)
	}
	return v, err
}

// queryAlias is alias for query parameters.
func queryAlias(r *http.Request, name, otherName string) (string, error) {
	q := r.URL.Query()
	return alias(name, q.Get(name), otherName, q.Get(otherName))
}

// required refuses an empty value of field.
func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return domain.Errorf(domain.CodeMissingField, field, "%s is required", field)
	}
	return nil
}

// maxLen refuses a string longer than n.
func maxLen(field, v string, n int) error {
	if len(v) > n {
		return domain.Errorf(domain.CodeInvalidField, field, "%s must be at most %d characters", field, n)
	}
	return nil
}

// positiveAmount checks an amount in minor units: more than zero and at most maxAmount.
func positiveAmount(field string, v int64) error {
	if v <= 0 {
		return domain.Errorf(domain.CodeInvalidField, field, "%s must be a positive amount in minor units, not %d", field, v)
	}
	if v > maxAmount {
		return domain.Errorf(domain.CodeInvalidField, field, "%s must be at most %d minor units", field, maxAmount)
	}
	return nil
}

// quantityOf reads an optional quantity (seats): absent is 0 (the default: 1, or the seats a
// purchase has); present, it must lie in 1..domain.MaxQuantity. Whether the plan takes seats at
// all is the plan's to say (domain.Plan.CheckQuantity).
func quantityOf(q *int64) (int64, error) {
	switch {
	case q == nil:
		return 0, nil
	case *q < 1:
		return 0, domain.Errorf(domain.CodeInvalidField, "quantity", "quantity must be at least 1, not %d", *q)
	case *q > domain.MaxQuantity:
		return 0, domain.Errorf(domain.CodeInvalidField, "quantity", "quantity must be at most %d, not %d", domain.MaxQuantity, *q)
	}
	return *q, nil
}

// amountRange checks an amount that may be zero.
func amountRange(field string, v int64) error {
	if v < 0 {
		return domain.Errorf(domain.CodeInvalidField, field, "%s must not be negative", field)
	}
	if v > maxAmount {
		return domain.Errorf(domain.CodeInvalidField, field, "%s must be at most %d", field, maxAmount)
	}
	return nil
}

// dateRange reads ?fromDate= and ?toDate= (YYYY-MM-DD, both inclusive, UTC) as a half-open
// interval [from, to+1day). Missing ends are zero (unbounded).
func dateRange(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	parse := func(field string) (time.Time, error) {
		v := q.Get(field)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return t, domain.Errorf(domain.CodeInvalidField, field, "%s must be a date like 2026-01-31, not %q", field, v)
		}
		return t, nil
	}
	if from, err = parse("fromDate"); err != nil {
		return
	}
	if to, err = parse("toDate"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, domain.Errorf(domain.CodeInvalidField, "toDate", "toDate must not be before fromDate")
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	return from, to, nil
}

// oneOf refuses a query value outside allowed (empty passes).
func oneOf(field, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return domain.Errorf(domain.CodeInvalidField, field, "%s must be one of %s, not %q", field, strings.Join(allowed, ", "), v)
}

// inField names the request field a not-found reference came from, so a client sending another
// merchant's (or no one's) reference learns which field was wrong.
func inField(err error, field string) error {
	if e := domain.AsError(err); e != nil && e.Code == domain.CodeNotFound && e.Field == "" {
		return &domain.Error{Code: e.Code, Message: e.Message, Field: field}
	}
	return err
}

// customerIn resolves a customer reference (cus_… or the merchant's own) sent in field.
func (s *Server) customerIn(ctx context.Context, merchant, ref, field string) (domain.Customer, error) {
	if err := required(field, ref); err != nil {
		return domain.Customer{}, err
	}
	c, err := s.store.GetCustomer(ctx, merchant, ref)
	return c, inField(err, field)
}

// productIn resolves a product reference sent in field.
func (s *Server) productIn(ctx context.Context, merchant, ref, field string) (domain.Product, error) {
	if err := required(field, ref); err != nil {
		return domain.Product{}, err
	}
	p, err := s.store.GetProduct(ctx, merchant, ref)
	return p, inField(err, field)
}

// planIn resolves the plan of a product: planRef when given (it must belong to the product),
// otherwise the product's default plan.
func (s *Server) planIn(ctx context.Context, merchant, productRef, planRef string) (domain.Plan, error) {
	if planRef == "" {
		p, err := s.store.DefaultPlan(ctx, merchant, productRef)
		return p, inField(err, "planRef")
	}
	p, err := s.store.GetPlan(ctx, merchant, planRef)
	if err != nil {
		return p, inField(err, "planRef")
	}
	if p.ProductRef != productRef {
		return p, domain.Errorf(domain.CodeInvalidField, "planRef", "plan %q belongs to another product than %q", planRef, productRef)
	}
	return p, nil
}
