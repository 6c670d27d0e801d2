package domain

import (
	"testing"
	"time"
)

func TestInvoiceNumber(t *testing.T) {
	at := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		pattern, prefix string
		n               int64
		want            string
	}{
		{"<PREFIX>-<YYYY>-<000001>", "INV", 1, "INV-2026-000001"},
		{"<PREFIX>-<YYYY>-<000001>", "ACME", 4242, "ACME-2026-004242"},
		{"<PREFIX>-<YYYY>-<000001>", "INV", 1234567, "INV-2026-1234567"}, // wider than the pad: whole
		{"<PREFIX>/<01>", "A", 7, "A/07"},
		{"F<1>", "", 12, "F12"},
		{"<PREFIX>-<other>-<001>", "X", 3, "X-<other>-003"},
	} {
		if got := InvoiceNumber(c.pattern, c.prefix, at, c.n); got != c.want {
			t.Errorf("InvoiceNumber(%q, %q, %d) = %q, want %q", c.pattern, c.prefix, c.n, got, c.want)
		}
	}
	for p, ok := range map[string]bool{"<PREFIX>-<YYYY>-<000001>": true, "<1>": true, "<PREFIX>-<YYYY>": false,
		"<01>-<01>": false, "<PREFIX>-<0001": false} {
		if err := ValidInvoicePattern(p); (err == nil) != ok {
			t.Errorf("ValidInvoicePattern(%q) = %v, want ok %v", p, err, ok)
		}
	}
}
