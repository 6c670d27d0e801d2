package domain

import "time"

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
	Features     []string     `json:"features,omitempty"`
	IsDefault    bool         `json:"isDefault"`
	Status       string       `json:"status"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
}

// Recurring reports whether the plan renews at period end.
func (p Plan) Recurring() bool {
	switch p.Type {
	case PlanRecurring, PlanHybrid, PlanUsageBased:
		return true
	}
	return false
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
