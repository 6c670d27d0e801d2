package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
)

// meterInput creates a custom meter (seed 003 "Meters"). The defaults (api_requests, requests,
// api_calls, tokens) exist for every merchant, and tool:{toolName} meters need no creating.
type meterInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// listMeters is GET /v1/meters: the defaults first, then the merchant's custom meters.
func (s *Server) listMeters(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	list, total, err := s.store.ListMeters(r.Context(), merchantOf(r), p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

// createMeter is POST /v1/meters.
func (s *Server) createMeter(w http.ResponseWriter, r *http.Request) error {
	var in meterInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	m, err := s.store.CreateMeter(r.Context(), domain.Meter{MerchantRef: merchantOf(r), Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// getMeter is GET /v1/meters/{ref}: by mtr_ reference or by name.
func (s *Server) getMeter(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMeter(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// deleteMeter is DELETE /v1/meters/{ref}: custom meters no plan counts.
func (s *Server) deleteMeter(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.DeleteMeter(r.Context(), merchantOf(r), r.PathValue("ref")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
