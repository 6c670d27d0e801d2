package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tollgate-billing/tollgate/domain"
)

// taxRateInput creates a tax rate. Percentage is exact: a JSON string or number with at most two
// decimals ("19", "7.25", 19) — never a float's approximation.
type taxRateInput struct {
	Name       string     `json:"name"`
	Percentage percentage `json:"percentage"`
	Country    string     `json:"country"`
	Inclusive  bool       `json:"inclusive"`
}

// percentage is a JSON string or number as sent, read exactly: a number is kept as its literal
// (never a float), a string as its text; anything else is kept as its JSON and refused later.
type percentage string

func (p *percentage) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = percentage(s)
		return nil
	}
	if string(b) != "null" {
		*p = percentage(b)
	}
	return nil
}

func (in taxRateInput) validate() (domain.TaxRate, error) {
	r := domain.TaxRate{Name: strings.TrimSpace(in.Name), Country: in.Country,
		Inclusive: in.Inclusive}
	bp, ok := domain.ParsePercentage(string(in.Percentage))
	switch {
	case r.Name == "":
		return r, domain.Errorf(domain.CodeMissingField, "name", "a tax rate needs a name, e.g. VAT")
	case len(r.Name) > 100:
		return r, domain.Errorf(domain.CodeInvalidField, "name", "a name has at most 100 characters")
	case in.Percentage == "":
		return r, domain.Errorf(domain.CodeMissingField, "percentage", "a tax rate needs a percentage, e.g. \"19\"")
	case !ok:
		return r, domain.Errorf(domain.CodeInvalidField, "percentage",
			"%s is not a percentage from 0 to 100 with at most two decimals (e.g. \"19\" or \"7.25\")", string(in.Percentage))
	case r.Country == "":
		return r, domain.Errorf(domain.CodeMissingField, "country", "a tax rate needs the ISO 3166-1 alpha-2 country it applies to, e.g. DE")
	case !isCountry(r.Country):
		return r, domain.Errorf(domain.CodeInvalidField, "country", "%q is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)", in.Country)
	}
	r.BasisPoints = bp
	return r, nil
}

// createTaxRate is POST /v1/tax-rates: a rate of one country in the key's mode.
func (s *Server) createTaxRate(w http.ResponseWriter, r *http.Request) error {
	var in taxRateInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	rate, err := in.validate()
	if err != nil {
		return err
	}
	rate.MerchantRef, rate.Mode = merchantOf(r), keyOf(r).Mode
	out, err := s.store.CreateTaxRate(r.Context(), rate)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// listTaxRates is GET /v1/tax-rates, newest first; ?active=true|false narrows.
func (s *Server) listTaxRates(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	var active *bool
	switch v := r.URL.Query().Get("active"); v {
	case "":
	case "true", "false":
		b := v == "true"
		active = &b
	default:
		return domain.Errorf(domain.CodeInvalidField, "active", "active is true or false")
	}
	list, total, err := s.store.ListTaxRates(r.Context(), merchantOf(r), keyOf(r).Mode, active, p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getTaxRate(w http.ResponseWriter, r *http.Request) error {
	rate, err := s.store.GetTaxRate(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rate)
	return nil
}

// archiveTaxRate is POST /v1/tax-rates/{ref}/archive: the rate no longer applies to new charges.
// A rate is never edited (invoices name it); to change one, archive it and create another.
func (s *Server) archiveTaxRate(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	rate, err := s.store.ArchiveTaxRate(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rate)
	return nil
}
