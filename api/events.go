package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// listEvents lists the key's mode's events of the last 30 days, newest first, by ?type=,
// ?objectRef= (the object the event is about) and ?fromDate=&toDate= (YYYY-MM-DD, inclusive).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.EventFilter{Mode: keyOf(r).Mode, Type: q.Get("type"), ObjectRef: q.Get("objectRef")}
	if err := oneOf("type", f.Type, domain.EventTypes...); err != nil {
		return err
	}
	if f.From, f.To, err = dateRange(r); err != nil {
		return err
	}
	list, total, err := s.store.ListEvents(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

// getEvent answers one event of the key's mode; another mode's or merchant's is not found.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	e, err := s.store.GetEvent(r.Context(), merchantOf(r), keyOf(r).Mode, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}
