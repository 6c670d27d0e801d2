package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// listBody is the list shape of the Solvimon tutorial, plus total.
type listBody[T any] struct {
	Data  []T       `json:"data"`
	Page  int       `json:"page"`
	Limit int       `json:"limit"`
	Total int       `json:"total"`
	Links listLinks `json:"links"`
}

type listLinks struct {
	First    string  `json:"first"`
	Previous *string `json:"previous"`
	Current  string  `json:"current"`
	Next     *string `json:"next"`
}

const (
	defaultLimit = 10
	maxLimit     = 100
	// maxPage keeps the row offset ((page-1) × limit) far inside an int: a page past the last
	// one is an empty page, a page beyond this is a 400, never a wrapped negative offset.
	maxPage = 10_000_000
)

// pageOf reads ?page= and ?limit= (defaults 1 and 10, limit at most 100).
func pageOf(r *http.Request) (store.Page, error) {
	p := store.Page{Page: 1, Limit: defaultLimit}
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return p, domain.Errorf(domain.CodeInvalidField, "page", "page must be a whole number from 1 to %d", maxPage)
		}
		p.Page = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, domain.Errorf(domain.CodeInvalidField, "limit", "limit must be a whole number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// writeList answers one page with absolute links that keep the request's other query parameters.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, data any, p store.Page, total int) {
	link := func(page int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		if p.Limit != defaultLimit {
			q.Set("limit", strconv.Itoa(p.Limit))
		}
		return fmt.Sprintf("%s%s?%s", s.baseURL(r), r.URL.Path, encodeQuery(q))
	}
	links := listLinks{First: link(1), Current: link(p.Page)}
	if p.Page > 1 {
		prev := link(p.Page - 1)
		links.Previous = &prev
	}
	if p.Page*p.Limit < total {
		next := link(p.Page + 1)
		links.Next = &next
	}
	writeJSON(w, http.StatusOK, listBody[any]{Data: toAnySlice(data), Page: p.Page, Limit: p.Limit, Total: total, Links: links})
}

// encodeQuery keeps page first, as the tutorial's links show it.
func encodeQuery(q url.Values) string {
	page := q.Get("page")
	q.Del("page")
	rest := q.Encode()
	if rest == "" {
		return "page=" + page
	}
	return "page=" + page + "&" + rest
}

// baseURL is the configured public URL, or scheme://host of the request.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return RequestOrigin(r)
}

// RequestOrigin is scheme://host of r as its client reached it (also for MCP's links).
func RequestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
