package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// adminCustomer is the Solvimon serialisation of a customer (seed 002): id is our cus_
// reference, reference is the merchant's own.
type adminCustomer struct {
	ObjectType   string            `json:"object_type"`
	ID           string            `json:"id"`
	CreatedAt    time.Time         `json:"created_at"`
	Reference    *string           `json:"reference"`
	Status       string            `json:"status"`
	Timezone     string            `json:"timezone,omitempty"`
	Type         string            `json:"type"`
	Email        string            `json:"email,omitempty"`
	Name         string            `json:"name,omitempty"`
	Organization *adminOrg         `json:"organization,omitempty"`
	Roles        []string          `json:"roles"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

type adminOrg struct {
	LegalName         string          `json:"legal_name"`
	TaxID             string          `json:"tax_id,omitempty"`
	TaxIDs            []adminTaxID    `json:"tax_ids,omitempty"`
	RegisteredAddress json.RawMessage `json:"registered_address,omitempty"`
}

type adminTaxID struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type adminCustomerInput struct {
	Reference    *string           `json:"reference"`
	Type         string            `json:"type"`
	Email        string            `json:"email"`
	Name         string            `json:"name"`
	Roles        []string          `json:"roles"`
	Status       string            `json:"status"`
	Timezone     string            `json:"timezone"`
	Organization *adminOrg         `json:"organization"`
	Metadata     map[string]string `json:"metadata"`
}

func toAdminCustomer(c domain.Customer) adminCustomer {
	out := adminCustomer{ObjectType: "CUSTOMER", ID: c.Ref, CreatedAt: c.CreatedAt.UTC().Truncate(time.Second),
		Status: c.Status, Timezone: c.Timezone, Type: c.Type, Email: c.Email, Name: c.Name, Roles: c.Roles, Metadata: c.Metadata}
	if c.ExternalRef != "" {
		ref := c.ExternalRef
		out.Reference = &ref
	}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if len(c.Organization) > 0 {
		var org adminOrg
		if json.Unmarshal(c.Organization, &org) == nil {
			if len(org.TaxIDs) > 0 {
				org.TaxID = org.TaxIDs[0].ID // Solvimon echoes the first tax id as tax_id
			}
			out.Organization = &org
		}
	}
	return out
}

func (in adminCustomerInput) validate() error {
	switch in.Type {
	case "", "INDIVIDUAL", "ORGANIZATION":
	default:
		return domain.Errorf(domain.CodeInvalidField, "type", "type must be INDIVIDUAL or ORGANIZATION")
	}
	switch in.Status {
	case "", domain.CustomerDraft, domain.CustomerActive:
	default:
		return domain.Errorf(domain.CodeInvalidField, "status", "status must be DRAFT or ACTIVE")
	}
	if in.Reference != nil && strings.TrimSpace(*in.Reference) == "" {
		return domain.Errorf(domain.CodeInvalidField, "reference", "reference must not be empty")
	}
	if in.Reference != nil && len(*in.Reference) > 255 {
		return domain.Errorf(domain.CodeInvalidField, "reference", "reference must be at most 255 characters")
	}
	if in.Email != "" && !domain.ValidEmail(in.Email) {
		return domain.Errorf(domain.CodeInvalidField, "email", "email %q is not a valid address", in.Email)
	}
	if in.Type == "ORGANIZATION" && (in.Organization == nil || in.Organization.LegalName == "") {
		return domain.Errorf(domain.CodeMissingField, "organization.legal_name", "an ORGANIZATION customer needs organization.legal_name")
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil {
			return domain.Errorf(domain.CodeInvalidField, "timezone", "unknown timezone %q", in.Timezone)
		}
	}
	return nil
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var in adminCustomerInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	c := domain.Customer{MerchantRef: merchantOf(r), Email: in.Email, Name: in.Name, Type: in.Type,
		Status: in.Status, Timezone: in.Timezone, Roles: in.Roles, Metadata: in.Metadata}
	if c.Type == "" {
		c.Type = "INDIVIDUAL"
	}
	if c.Status == "" {
		c.Status = domain.CustomerDraft // Solvimon resources start as drafts
	}
	if in.Reference != nil {
		c.ExternalRef = *in.Reference
	}
	if in.Organization != nil {
		in.Organization.TaxID = ""
		c.Organization, _ = json.Marshal(in.Organization)
		if c.Name == "" {
			c.Name = in.Organization.LegalName
		}
	}
	created, err := s.store.CreateCustomer(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAdminCustomer(created))
	return nil
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.CustomerFilter{ExternalRef: q.Get("reference"), Email: q.Get("email"), Search: q.Get("search"), Status: q.Get("status")}
	list, total, err := s.store.ListCustomers(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	out := make([]adminCustomer, len(list))
	for i, c := range list {
		out[i] = toAdminCustomer(c)
	}
	s.writeList(w, r, out, p, total)
	return nil
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.GetCustomer(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAdminCustomer(c))
	return nil
}

// activateCustomer moves a DRAFT customer to ACTIVE (seed 002 step 5); activating an active
// customer is a no-op that answers the customer.
func (s *Server) activateCustomer(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	active := domain.CustomerActive
	c, err := s.store.UpdateCustomer(r.Context(), merchantOf(r), r.PathValue("ref"), store.CustomerPatch{Status: &active})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAdminCustomer(c))
	return nil
}
