package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// dunningPatch changes the merchant's dunning schedule: only the fields supplied.
type dunningPatch struct {
	RetryDays       []int `json:"retryDays"`
	GracePeriodDays *int  `json:"gracePeriodDays"`
}

// getDunning is GET /v1/settings/dunning: the schedule the next failed renewal starts with.
func (s *Server) getDunning(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMerchant(r.Context(), merchantOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m.Dunning())
	return nil
}

// updateDunning is PATCH /v1/settings/dunning. The result must keep every dunning state real
// (domain.DunningSchedule.Validate); otherwise nothing changes and the field is named.
func (s *Server) updateDunning(w http.ResponseWriter, r *http.Request) error {
	var in dunningPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.RetryDays == nil && in.GracePeriodDays == nil {
		return domain.Errorf(domain.CodeMissingField, "body", "send at least one of retryDays, gracePeriodDays")
	}
	d, err := s.store.UpdateDunning(r.Context(), merchantOf(r), store.DunningPatch{RetryDays: in.RetryDays, GraceDays: in.GracePeriodDays})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// disputeSettings is what an open dispute does to the access of the purchase it is about.
type disputeSettings struct {
	Access string `json:"access"` // suspend (the default) or keep
}

// getDisputes is GET /v1/settings/disputes.
func (s *Server) getDisputes(w http.ResponseWriter, r *http.Request) error {
	m, err := s.store.GetMerchant(r.Context(), merchantOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, disputeSettings{Access: m.DisputeAccess})
	return nil
}

// updateDisputes is PATCH /v1/settings/disputes; it applies to disputes opened from now on.
func (s *Server) updateDisputes(w http.ResponseWriter, r *http.Request) error {
	var in disputeSettings
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Access != store.DisputeSuspend && in.Access != store.DisputeKeep {
		return domain.Errorf(domain.CodeInvalidField, "access", "access is %q or %q", store.DisputeSuspend, store.DisputeKeep)
	}
	if err := s.store.SetDisputeAccess(r.Context(), merchantOf(r), in.Access); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}
