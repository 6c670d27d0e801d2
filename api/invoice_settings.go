package api

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"net/http"
	"regexp"

	"github.com/bojanz/currency"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// invoiceSettingsPatch changes the merchant's invoice settings: only the fields supplied.
type invoiceSettingsPatch struct {
	Prefix     *string `json:"prefix"`
	Pattern    *string `json:"pattern"`
	PaperSize  *string `json:"paperSize"`
	Address    *string `json:"address"`
	Country    *string `json:"country"`
	TaxID      *string `json:"taxId"`
	Logo       *string `json:"logo"` // base64 PNG or JPEG, at most 256 KiB
	RemoveLogo bool    `json:"removeLogo"`
}

const maxLogo = 256 << 10

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$`)

func (s *Server) getInvoiceSettings(w http.ResponseWriter, r *http.Request) error {
	set, err := s.store.GetInvoiceSettings(r.Context(), merchantOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, set)
	return nil
}

// updateInvoiceSettings is PATCH /v1/settings/invoices. Documents issued before keep what they
// were issued with; a bad field changes nothing and is named.
func (s *Server) updateInvoiceSettings(w http.ResponseWriter, r *http.Request) error {
	var in invoiceSettingsPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	p, err := in.validate()
	if err != nil {
		return err
	}
	set, err := s.store.UpdateInvoiceSettings(r.Context(), merchantOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, set)
	return nil
}

func (in invoiceSettingsPatch) validate() (store.InvoiceSettingsPatch, error) {
	p := store.InvoiceSettingsPatch{Prefix: in.Prefix, Pattern: in.Pattern, PaperSize: in.PaperSize, Address: in.Address,
		Country: in.Country, TaxID: in.TaxID, RemoveLogo: in.RemoveLogo}
	switch {
	case in == (invoiceSettingsPatch{}):
		return p, domain.Errorf(domain.CodeMissingField, "body", "send at least one of prefix, pattern, paperSize, address, country, taxId, logo, removeLogo")
	case in.Prefix != nil && !prefixPattern.MatchString(*in.Prefix):
		return p, domain.Errorf(domain.CodeInvalidField, "prefix", "a prefix is 1 to 20 letters, digits, - or _, starting with a letter or digit")
	case in.PaperSize != nil && *in.PaperSize != "A4" && *in.PaperSize != "Letter":
		return p, domain.Errorf(domain.CodeInvalidField, "paperSize", "paperSize is A4 or Letter")
	case in.Country != nil && *in.Country != "" && !isCountry(*in.Country):
		return p, domain.Errorf(domain.CodeInvalidField, "country", "%q is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)", *in.Country)
	case in.Address != nil && len(*in.Address) > 500:
		return p, domain.Errorf(domain.CodeInvalidField, "address", "an address has at most 500 characters")
	case in.TaxID != nil && len(*in.TaxID) > 64:
		return p, domain.Errorf(domain.CodeInvalidField, "taxId", "a tax ID has at most 64 characters")
	case in.Logo != nil && in.RemoveLogo:
		return p, domain.Errorf(domain.CodeInvalidField, "removeLogo", "send a logo or removeLogo, not both")
	}
	if in.Pattern != nil {
		if err := domain.ValidInvoicePattern(*in.Pattern); err != nil {
			return p, err
		}
	}
	if in.Logo != nil {
		raw, err := base64.StdEncoding.DecodeString(*in.Logo)
		if err != nil || len(raw) == 0 || len(raw) > maxLogo {
			return p, domain.Errorf(domain.CodeInvalidField, "logo", "a logo is a base64 PNG or JPEG of at most 256 KiB")
		}
		_, format, err := image.DecodeConfig(bytes.NewReader(raw))
		if err != nil || (format != "png" && format != "jpeg") {
			return p, domain.Errorf(domain.CodeInvalidField, "logo", "a logo is a PNG or JPEG image")
		}
		p.Logo, p.LogoType = raw, map[string]string{"png": "png", "jpeg": "jpg"}[format]
	}
	return p, nil
}

// isCountry reports whether code is an ISO 3166-1 alpha-2 country (CLDR's territories with a
// currency, which are the countries).
func isCountry(code string) bool {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return false
	}
	_, ok := currency.ForCountryCode(code)
	return ok
}
