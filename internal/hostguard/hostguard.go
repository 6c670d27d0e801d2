// Package hostguard keeps a web page from driving a local server through DNS rebinding: a page
// on evil.example whose name is re-pointed at 127.0.0.1 reaches the server as same-origin, but
// its requests still carry Host (and Origin) evil.example. Requests are served only when Host is
// an IP address, localhost or a configured name, and a browser's Origin names one of those too.
package hostguard

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// IsLoopback is true for localhost and loopback IP addresses (host without a port).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Guard serves next only for requests whose Host is allowed (see Allowed) and whose Origin,
// when a browser sends one, is localhost, a loopback address or one of names; anything else is
// a 403.
func Guard(names []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Allowed(r, names) {
			http.Error(w, "forbidden: this server answers only to its own host names", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Allowed reports whether r may be served: Host is an IP address, localhost or one of names
// (a name never points at this server by accident of DNS), and Origin, when present, is
// localhost, a loopback address or one of names.
func Allowed(r *http.Request, names []string) bool {
	host := hostname(r.Host)
	if net.ParseIP(host) == nil && !IsLoopback(host) && !named(host, names) {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return IsLoopback(u.Hostname()) || named(u.Hostname(), names)
}

// NameOf is the host name of a configured public URL ("" when it has none), for names.
func NameOf(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func named(host string, names []string) bool {
	for _, n := range names {
		if n != "" && strings.EqualFold(host, n) {
			return true
		}
	}
	return false
}
