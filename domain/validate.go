package domain

import (
	"net/url"
	"strings"
)

// ValidEmail is the one check of an email address the API, the CLI and the admin API apply: an
// @, a dotted domain, no spaces or angle brackets, at most 254 characters.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " \t\r\n<>") && len(s) <= 254
}

// ValidHTTPURL accepts an absolute http(s) URL of at most 2,000 characters.
func ValidHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= 2000
}
