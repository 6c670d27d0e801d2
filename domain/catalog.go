package domain

import (
	"time"

	"github.com/tollgate-billing/tollgate/money"
)

// PlanType is how a plan charges (seed 003 "Plan types", plus free).
type PlanType string

const (
	PlanRecurring  PlanType = "recurring"
	PlanUsageBased PlanType = "usage-based"
	PlanHybrid     PlanType = "hybrid"
	PlanOneTime    PlanType = "one-time"
	PlanFree       PlanType = "free"
)

// BillingCycle is the length of a recurring period.
type BillingCycle string

const (
	CycleWeekly    BillingCycle = "weekly"
	CycleMonthly   BillingCycle = "monthly"
	CycleQuarterly BillingCycle = "quarterly"
	CycleYearly    BillingCycle = "yearly"
	CycleCustom    BillingCycle = "custom" // CycleDays long
)

// Status values shared by catalog objects.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusArchived = "archived"
)

type Product struct {
	Ref         string            `json:"reference"`
	MerchantRef string            `json:"-"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

type Plan struct {
	Ref          string       `json:"reference"`
	MerchantRef  string       `json:"-"`
	ProductRef   string       `json:"productRef"`
	Name         string       `json:"name"`
	Type         PlanType     `json:"type"`
	Price        int64        `json:"price"` // minor units per period (recurring, hybrid) or once (one-time)
	Currency     string       `json:"currency"`
	BillingCycle BillingCycle `json:"billingCycle,omitempty"`
	CycleDays    int          `json:"cycleDays,omitempty"` // for custom cycles
	TrialDays    int          `json:"trialDays,omitempty"`
	FreeUnits    int64        `json:"freeUnits,omitempty"`
	Limit        *int64       `json:"limit,omitempty"`     // hard usage limit per period; nil = unlimited
	UnitPrice    int64        `json:"unitPrice,omitempty"` // minor units per billable unit (usage-based, hybrid)
	Meter        string       `json:"meterName,omitempty"`
	SetupFee     int64        `json:"setupFee,omitempty"`
	AccessDays   int          `json:"accessDays,omitempty"` // one-time: access expires after this many days; 0 = lifetime
	// PerSeat: Price is per seat (unit); a purchase pays Price × its quantity. The setup fee and
	// metered usage are per purchase.
	PerSeat bool `json:"perSeat"`
	// LimitsPerSeat: Limit (and the free units that cap a plan without a limit) count per seat,
	// so a purchase of n seats may use n times as much.
	LimitsPerSeat bool      `json:"limitsPerSeat"`
	Features      []string  `json:"features,omitempty"`
	IsDefault     bool      `json:"isDefault"`
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// Recurring reports whether the plan renews at period end.
func (p Plan) Recurring() bool {
	switch p.Type {
	case PlanRecurring, PlanHybrid, PlanUsageBased:
		return true
	}
	return false
}

// MaxQuantity is the most seats one purchase may have: far above real purchases, and low enough
// that any price (api caps prices at 10^12 minor units) times it stays inside an int64.
const MaxQuantity = 1_000_000

// Quantity is q as a purchase counts it: 0 (purchases bought before seats) is 1.
func Quantity(q int64) int64 { return max(q, 1) }

// SeatPrice is what the plan charges per period for quantity seats: Price × quantity on a
// per-seat plan, else Price. An amount out of range is an INVALID_FIELD naming quantity.
func (p Plan) SeatPrice(quantity int64) (int64, error) {
	if !p.PerSeat {
		return p.Price, nil
	}
	a, err := money.Mul(p.Price, Quantity(quantity))
	if err != nil {
		return 0, Errorf(CodeInvalidField, "quantity", "%d seats at %d per seat is more than an amount can hold", quantity, p.Price)
	}
	return a, nil
}

// CheckQuantity refuses a quantity the plan cannot be bought with: below 1, above MaxQuantity,
// other than 1 on a plan not priced per seat, or one whose first charge (price × quantity and
// the setup fee) would not fit in an amount. The message names the field quantity.
func (p Plan) CheckQuantity(q int64) error {
	switch {
	case q < 1:
		return Errorf(CodeInvalidField, "quantity", "quantity must be at least 1, not %d", q)
	case q > MaxQuantity:
		return Errorf(CodeInvalidField, "quantity", "quantity must be at most %d, not %d", MaxQuantity, q)
	case !p.PerSeat && q != 1:
		return Errorf(CodeInvalidField, "quantity", "plan %s is not priced per seat: its quantity is 1, not %d", p.Ref, q)
	}
	price, err := p.SeatPrice(q)
	if err == nil {
		_, err = money.Add(price, p.SetupFee)
	}
	if err != nil {
		return Errorf(CodeInvalidField, "quantity", "%d seats at %d per seat is more than an amount can hold", q, p.Price)
	}
	return nil
}

// Metered reports whether the plan bills usage beyond its free units (usage-based and hybrid).
func (p Plan) Metered() bool { return p.Type == PlanUsageBased || p.Type == PlanHybrid }

type Meter struct {
	Ref         string    `json:"reference"`
	MerchantRef string    `json:"-"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// DefaultMeters exist for every merchant (seed 003 "Meters").
var DefaultMeters = []string{"api_requests", "requests", "api_calls", "tokens"}
