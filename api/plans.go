package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Caps on plan numbers, far above real plans, so arithmetic on them cannot overflow.
const (
	maxDays      = 36600 // a hundred years
	maxPlanUnits = int64(1_000_000_000_000_000)
)

type planInput struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Price        int64    `json:"price"`
	Currency     string   `json:"currency"`
	BillingCycle string   `json:"billingCycle"`
	CycleDays    int      `json:"cycleDays"`
	TrialDays    int      `json:"trialDays"`
	FreeUnits    int64    `json:"freeUnits"`
	Limit        *int64   `json:"limit"`
	UnitPrice    int64    `json:"unitPrice"`
	MeterName    string   `json:"meterName"`
	SetupFee     int64    `json:"setupFee"`
	AccessDays   int      `json:"accessDays"`
	Features     []string `json:"features"`
	IsDefault    bool     `json:"isDefault"`
	Status       string   `json:"status"`
	// PerSeat prices the plan per seat (a purchase pays price × quantity); LimitsPerSeat scales
	// its usage limit with the seats.
	PerSeat       bool `json:"perSeat"`
	LimitsPerSeat bool `json:"limitsPerSeat"`
}

func (in planInput) plan() domain.Plan {
	return domain.Plan{Name: in.Name, Type: domain.PlanType(in.Type), Price: in.Price, Currency: in.Currency,
		BillingCycle: domain.BillingCycle(in.BillingCycle), CycleDays: in.CycleDays, TrialDays: in.TrialDays,
		FreeUnits: in.FreeUnits, Limit: in.Limit, UnitPrice: in.UnitPrice, Meter: in.MeterName, SetupFee: in.SetupFee,
		AccessDays: in.AccessDays, Features: in.Features, IsDefault: in.IsDefault, Status: in.Status,
		PerSeat: in.PerSeat, LimitsPerSeat: in.LimitsPerSeat}
}

// validatePlan checks what the store's rules do not: amounts have a ceiling, a paid plan has a
// price above zero, lists and strings have caps. It runs on the whole plan after a patch too.
func validatePlan(p *domain.Plan) error {
	if err := store.ValidatePlan(p); err != nil {
		return err
	}
	if err := maxLen("name", p.Name, 255); err != nil {
		return err
	}
	for _, a := range []struct {
		field string
		v     int64
	}{{"price", p.Price}, {"unitPrice", p.UnitPrice}, {"setupFee", p.SetupFee}} {
		if err := amountRange(a.field, a.v); err != nil {
			return err
		}
	}
	switch p.Type {
	case domain.PlanRecurring, domain.PlanOneTime, domain.PlanHybrid:
		if err := positiveAmount("price", p.Price); err != nil {
			return err
		}
	}
	switch p.Type {
	case domain.PlanUsageBased, domain.PlanHybrid:
		if err := positiveAmount("unitPrice", p.UnitPrice); err != nil {
			return err
		}
	}
	if err := checkPlanCharges(*p); err != nil {
		return err
	}
	for _, d := range []struct {
		field string
		v     int
	}{{"cycleDays", p.CycleDays}, {"trialDays", p.TrialDays}, {"accessDays", p.AccessDays}} {
		if d.v > maxDays {
			return domain.Errorf(domain.CodeInvalidField, d.field, "%s must be at most %d", d.field, maxDays)
		}
	}
	if p.FreeUnits > maxPlanUnits {
		return domain.Errorf(domain.CodeInvalidField, "freeUnits", "freeUnits must be at most %d", maxPlanUnits)
	}
	if p.Limit != nil && *p.Limit > maxPlanUnits {
		return domain.Errorf(domain.CodeInvalidField, "limit", "limit must be at most %d", maxPlanUnits)
	}
	if err := maxLen("meterName", p.Meter, 100); err != nil {
		return err
	}
	if len(p.Features) > 100 {
		return domain.Errorf(domain.CodeInvalidField, "features", "a plan has at most 100 features")
	}
	for _, f := range p.Features {
		if strings.TrimSpace(f) == "" || len(f) > 255 {
			return domain.Errorf(domain.CodeInvalidField, "features", "each feature is 1 to 255 characters")
		}
	}
	return nil
}

// checkPlanCharges refuses a plan whose charges the processor could not take. A one-time plan
// below the minimum charge for its currency could never be paid: nothing comes after it to carry
// the amount to (a renewing plan's small charges carry to the next period). A metered plan with
// a usage limit must keep its dearest period (price and the overage up to the limit) inside an
// int64; without a limit the renewal refuses an overage that overflows (workflows.Overage).
func checkPlanCharges(p domain.Plan) error {
	if p.Type == domain.PlanOneTime {
		if least := money.MinimumCharge(p.Currency); p.Price+p.SetupFee < least { // both capped at maxAmount
			return domain.Errorf(domain.CodeInvalidField, "price",
				"a one-time plan must cost at least %d (price and setup fee), the smallest charge the processor takes in %s", least, p.Currency)
		}
	}
	if !p.Metered() || p.Limit == nil {
		return nil
	}
	overage, err := workflows.Overage(p, *p.Limit)
	if err == nil {
		_, err = money.Add(p.Price, overage)
	}
	if err != nil {
		return domain.Errorf(domain.CodeInvalidField, "unitPrice",
			"unitPrice %d for up to %d units beyond the free ones (limit %d) makes a period cost more than %d: lower unitPrice or limit",
			p.UnitPrice, *p.Limit-p.FreeUnits, *p.Limit, int64(math.MaxInt64))
	}
	return nil
}

// checkMeter refuses a plan counting a meter the merchant does not have (the defaults always exist).
func (s *Server) checkMeter(r *http.Request, p domain.Plan) error {
	if p.Meter == "" || slices.Contains(domain.DefaultMeters, p.Meter) {
		return nil
	}
	_, err := s.store.GetMeter(r.Context(), merchantOf(r), p.Meter)
	return inField(err, "meterName")
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request) error {
	var in planInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	p := in.plan()
	if err := validatePlan(&p); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	prd, err := s.store.GetProduct(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if err := s.checkMeter(r, p); err != nil {
		return err
	}
	p.MerchantRef, p.ProductRef = merchant, prd.Ref
	created, err := s.store.CreatePlan(ctx, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// listPlans lists a product's plans with ?status= and ?type=.
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := oneOf("status", q.Get("status"), catalogStatuses...); err != nil {
		return err
	}
	if err := oneOf("type", q.Get("type"), planTypes...); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	prd, err := s.store.GetProduct(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	list, total, err := s.store.ListPlansFiltered(ctx, merchant, store.PlanFilter{ProductRef: prd.Ref, Status: q.Get("status"),
		Type: domain.PlanType(q.Get("type"))}, pg)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, pg, total)
	return nil
}

var planTypes = []string{string(domain.PlanRecurring), string(domain.PlanUsageBased), string(domain.PlanHybrid),
	string(domain.PlanOneTime), string(domain.PlanFree)}

// productPlan loads the plan of the path, which must belong to the path's product.
func (s *Server) productPlan(r *http.Request) (domain.Plan, error) {
	ctx, merchant := r.Context(), merchantOf(r)
	prd, err := s.store.GetProduct(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return domain.Plan{}, err
	}
	p, err := s.store.GetPlan(ctx, merchant, r.PathValue("planRef"))
	if err == nil && p.ProductRef != prd.Ref {
		return p, domain.NotFound("plan", r.PathValue("planRef"))
	}
	return p, err
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.productPlan(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// planPatch changes only the fields supplied. limit is raw so that null can mean "unlimited".
type planPatch struct {
	Name         *string         `json:"name"`
	Type         *string         `json:"type"`
	Price        *int64          `json:"price"`
	Currency     *string         `json:"currency"`
	BillingCycle *string         `json:"billingCycle"`
	CycleDays    *int            `json:"cycleDays"`
	TrialDays    *int            `json:"trialDays"`
	FreeUnits    *int64          `json:"freeUnits"`
	Limit        json.RawMessage `json:"limit"`
	UnitPrice    *int64          `json:"unitPrice"`
	MeterName    *string         `json:"meterName"`
	SetupFee     *int64          `json:"setupFee"`
	AccessDays   *int            `json:"accessDays"`
	Features     []string        `json:"features"`
	IsDefault    *bool           `json:"isDefault"`
	Status       *string         `json:"status"`
	// PerSeat and LimitsPerSeat apply to purchases made after the change.
	PerSeat       *bool `json:"perSeat"`
	LimitsPerSeat *bool `json:"limitsPerSeat"`
}

func (in planPatch) toStore() (store.PlanPatch, error) {
	out := store.PlanPatch{Name: in.Name, Price: in.Price, Currency: in.Currency, CycleDays: in.CycleDays,
		TrialDays: in.TrialDays, FreeUnits: in.FreeUnits, UnitPrice: in.UnitPrice, Meter: in.MeterName,
		SetupFee: in.SetupFee, AccessDays: in.AccessDays, Features: in.Features, IsDefault: in.IsDefault, Status: in.Status,
		PerSeat: in.PerSeat, LimitsPerSeat: in.LimitsPerSeat}
	if in.Type != nil {
		t := domain.PlanType(*in.Type)
		out.Type = &t
	}
	if in.BillingCycle != nil {
		c := domain.BillingCycle(*in.BillingCycle)
		out.BillingCycle = &c
	}
	switch {
	case len(in.Limit) == 0:
	case bytes.Equal(bytes.TrimSpace(in.Limit), []byte("null")):
		out.ClearLimit = true
	default:
		var n int64
		if err := json.Unmarshal(in.Limit, &n); err != nil {
			return out, domain.Errorf(domain.CodeInvalidField, "limit", "limit must be a whole number or null, not %s", in.Limit)
		}
		out.Limit = &n
	}
	if out.Name == nil && out.Type == nil && out.Price == nil && out.Currency == nil && out.BillingCycle == nil &&
		out.CycleDays == nil && out.TrialDays == nil && out.FreeUnits == nil && out.Limit == nil && !out.ClearLimit &&
		out.UnitPrice == nil && out.Meter == nil && out.SetupFee == nil && out.AccessDays == nil && out.Features == nil &&
		out.IsDefault == nil && out.Status == nil && out.PerSeat == nil && out.LimitsPerSeat == nil {
		return out, domain.Errorf(domain.CodeMissingField, "body", "send at least one plan field to change")
	}
	return out, nil
}

func (s *Server) updatePlan(w http.ResponseWriter, r *http.Request) error {
	var in planPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	patch, err := in.toStore()
	if err != nil {
		return err
	}
	cur, err := s.productPlan(r)
	if err != nil {
		return err
	}
	next := patch.Apply(cur)
	if err := validatePlan(&next); err != nil {
		return err
	}
	if err := s.checkMeter(r, next); err != nil {
		return err
	}
	p, err := s.store.UpdatePlan(r.Context(), merchantOf(r), cur.Ref, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// deletePlan soft-deletes; running purchases keep the plan they were bought with.
func (s *Server) deletePlan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.productPlan(r)
	if err != nil {
		return err
	}
	if err := s.store.DeletePlan(r.Context(), merchantOf(r), p.Ref); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Reference: p.Ref, Deleted: true})
	return nil
}
