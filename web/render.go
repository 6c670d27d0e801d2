package web

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tollgate-billing/tollgate/store"
)

// pageNames are the templates in templates/, each rendered inside layout.html.
var pageNames = []string{"checkout", "success", "processing", "portal", "confirm_cancel", "change_plan", "card", "message", "pay", "invoice", "credit_note"}

type pages map[string]*template.Template

// mustParsePages parses the frame once and gives each page a copy of it.
func mustParsePages() pages {
	frame := template.Must(template.New("").Funcs(template.FuncMap{"initial": initial, "imageURL": imageURL}).
		ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	out := pages{}
	for _, name := range pageNames {
		out[name] = template.Must(template.Must(frame.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return out
}

// layout is what every page's frame shows.
type layout struct {
	Title    string
	Merchant store.Merchant
	// Sandbox shows the test-mode ribbon: the page is a sandbox session's (a message page, which
	// takes and shows nothing, has none).
	Sandbox bool
	// Refresh, when set, reloads the page after that many seconds (the no-JS "processing" page).
	Refresh int
	// Scripts are our own /assets scripts; StripeJS adds Stripe's.
	Scripts  []string
	StripeJS bool
	Wide     bool // the two-column checkout
}

// page is one rendered page: the frame plus the page's own data.
type page struct {
	layout
	Data any
}

// render writes a page with status; a template failure is logged and answered 500 in words.
func (h *handler) render(w http.ResponseWriter, status int, name string, l layout, data any) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", page{layout: l, Data: data}); err != nil {
		h.logTo(w).Error("render page", "page", name, "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// logTo is the logger of the lines of the request answered on w: each carries the request's id,
// which the API set on the answer (X-Request-Id) before it reached the pages.
func (h *handler) logTo(w http.ResponseWriter) *slog.Logger {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return h.log.With("requestId", id)
	}
	return h.log
}

// message is a page of words only: an unknown or expired link, a refused request.
type message struct {
	Heading   string
	Body      string
	ReturnURL string
	LinkText  string
}

func (h *handler) renderMessage(w http.ResponseWriter, status int, m store.Merchant, msg message) {
	if msg.ReturnURL != "" && msg.LinkText == "" {
		msg.LinkText = "Return to " + merchantName(m)
	}
	h.render(w, status, "message", layout{Title: msg.Heading, Merchant: m}, msg)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, http.StatusNotFound, store.Merchant{}, message{
		Heading: "This link isn't valid",
		Body:    "We couldn't find this page. Check that you copied the whole link, or ask the business that sent it for a new one.",
	})
}

func (h *handler) internalError(w http.ResponseWriter, m store.Merchant, what string, err error) {
	h.logTo(w).Error(what, "err", err)
	h.renderMessage(w, http.StatusInternalServerError, m, message{
		Heading: "Something went wrong",
		Body:    "We couldn't complete this on our side. Nothing was charged twice; please try again in a moment.",
	})
}

func merchantName(m store.Merchant) string {
	if m.Name != "" {
		return m.Name
	}
	return "the merchant"
}

// initial is the letter of the merchant's monogram when it has no logo.
func initial(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "·"
	}
	return strings.ToUpper(string([]rune(s)[:1]))
}

// safeURL lets only http(s) links through: a return URL comes from the merchant's API call and
// must never become a javascript: link on our page.
func safeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

// imageURL passes a merchant's logo through when it is an http(s) URL or an inline image, the
// forms the CSP's img-src allows. html/template rejects data: URLs by default; an image data
// URL is safe in <img src> (an SVG there runs no script).
func imageURL(u string) template.URL {
	for _, ok := range []string{"https://", "http://", "data:image/png", "data:image/jpeg", "data:image/gif",
		"data:image/webp", "data:image/svg+xml"} {
		if strings.HasPrefix(u, ok) {
			return template.URL(u)
		}
	}
	return ""
}
