package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSecuritySection: the README tells who can reach what, what an operator must set in
// production, and how to report a vulnerability; every setting it names is one the binary reads.
func TestReadmeSecuritySection(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(raw), "\n## Security\n")
	if !ok {
		t.Fatal("README.md has no Security section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	for _, h := range []string{"### Threat model", "### In production, set", "### Reporting a vulnerability"} {
		if !strings.Contains(sec, h) {
			t.Errorf("the Security section has no %q", h)
		}
	}
	read := map[string]bool{}
	for _, sub := range []string{"api", "worker", "dev"} {
		for _, n := range envNamesOf(t, sub) {
			read[n] = true
		}
	}
	names := regexp.MustCompile("`([A-Z][A-Z0-9_]{3,})`").FindAllStringSubmatch(sec, -1)
	if len(names) < 5 {
		t.Fatalf("the Security section names %d settings", len(names))
	}
	for _, m := range names {
		if !read[m[1]] {
			t.Errorf("the Security section names %s, which tollgate api, worker and dev do not read", m[1])
		}
	}
}
