package api

import (
	"net/http"
	"strings"
)

// sdkMerchant is the provider identity safe to render in checkout and mandate copy (seed 003
// "Data helpers").
type sdkMerchant struct {
	Reference      string `json:"reference"`
	Name           string `json:"name"`
	LegalName      string `json:"legalName"`
	SupportContact string `json:"supportContact"`
	TermsURL       string `json:"termsUrl"`
	PrivacyURL     string `json:"privacyUrl"`
	IconURL        string `json:"iconUrl"`
	LogoURL        string `json:"logoUrl"`
}

func (s *Server) getSDKMerchant(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMerchant(r.Context(), merchantOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sdkMerchant{Reference: m.Ref, Name: m.Name, LegalName: m.LegalName,
		SupportContact: m.SupportContact, TermsURL: s.absolute(r, m.TermsURL), PrivacyURL: s.absolute(r, m.PrivacyURL),
		IconURL: s.absolute(r, m.IconURL), LogoURL: s.absolute(r, m.LogoURL)})
	return nil
}

// absolute resolves a stored asset path against this server's public URL, as seed 003 resolves
// logoUrl against ASSETS_BASE_URL; absolute URLs and empty values pass through.
func (s *Server) absolute(r *http.Request, u string) string {
	if u == "" || strings.Contains(u, "://") {
		return u
	}
	return s.baseURL(r) + "/" + strings.TrimPrefix(u, "/")
}

// platformConfig holds browser-safe platform values for the environment of the caller's key.
type platformConfig struct {
	Mode                 string `json:"mode"`      // sandbox or live, from the API key
	Processor            string `json:"processor"` // the mode's: sandbox or stripe; empty when none
	StripePublishableKey string `json:"stripePublishableKey"`
	DefaultCurrency      string `json:"defaultCurrency"`
}

func (s *Server) getPlatformConfig(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMerchant(r.Context(), merchantOf(r))
	if err != nil {
		return err
	}
	pc := platformConfig{Mode: keyOf(r).Mode, DefaultCurrency: m.DefaultCurrency}
	if p, publishable, err := s.processorAndKey(r); err == nil {
		pc.Processor = p.Name()
		if pc.Processor == "stripe" {
			pc.StripePublishableKey = publishable
		}
	}
	writeJSON(w, http.StatusOK, pc)
	return nil
}
