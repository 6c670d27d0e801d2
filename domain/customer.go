package domain

import (
	"encoding/json"
	"time"
)

// Customer is one model with two serialisations: the SDK face (reference = cus_…, externalRef =
// the merchant's id) and the Solvimon admin face (id = cus_…, reference = the merchant's id).
type Customer struct {
	Ref          string            `json:"reference"`
	MerchantRef  string            `json:"-"`
	ExternalRef  string            `json:"externalRef,omitempty"`
	Email        string            `json:"email,omitempty"`
	Name         string            `json:"name,omitempty"`
	Type         string            `json:"type,omitempty"` // INDIVIDUAL or ORGANIZATION
	Status       string            `json:"status"`         // DRAFT or ACTIVE
	Timezone     string            `json:"timezone,omitempty"`
	Roles        []string          `json:"roles,omitempty"`
	Organization json.RawMessage   `json:"organization,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Card         *Card             `json:"-"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

// Card is the customer's default payment method as shown to people.
type Card struct {
	PaymentMethod string `json:"-"`
	Brand         string `json:"brand"`
	Last4         string `json:"last4"`
	ExpMonth      int    `json:"expMonth"`
	ExpYear       int    `json:"expYear"`
}

const (
	CustomerDraft  = "DRAFT"
	CustomerActive = "ACTIVE"
)
