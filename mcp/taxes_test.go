package mcp_test

import (
	"strings"
	"testing"
)

// The assistant creates a tax rate (the answer names it in words), lists the rates, and a rate a
// country already has or a country that is not ISO 3166 is refused naming the field; the key's
// other merchant sees none of them.
func TestTaxRateTools(t *testing.T) {
	w := newWorld(t)
	cs := w.overHTTP(w.key)
	if l := ok(t, cs, "list_tax_rates", nil); !strings.Contains(l.text, "No tax rates found.") {
		t.Fatalf("no rates yet: %s", l.text)
	}
	r := ok(t, cs, "create_tax_rate", map[string]any{"name": "VAT", "percentage": "19", "country": "DE"})
	ref := r.str("reference")
	if !strings.HasPrefix(ref, "txr_") || r.structured["basisPoints"] != float64(1900) || r.structured["inclusive"] != false {
		t.Fatalf("create: %v", r.structured)
	}
	mustContain(t, "create_tax_rate", r.text, "Created tax rate "+ref+" VAT 19% in DE, added to prices.")
	inc := ok(t, cs, "create_tax_rate", map[string]any{"name": "GST", "percentage": "7.25", "country": "SG", "inclusive": true})
	mustContain(t, "create_tax_rate inclusive", inc.text, "GST 7.25% in SG, included in prices")
	for _, c := range []struct {
		country, percentage, code, field string
	}{{"DE", "20", "CONFLICT", "country"}, {"XX", "20", "INVALID_FIELD", "country"},
		{"FR", "101", "INVALID_FIELD", "percentage"}, {"FR", "19.125", "INVALID_FIELD", "percentage"}} {
		args := map[string]any{"name": "VAT", "percentage": c.percentage, "country": c.country}
		if e := fails(t, cs, "create_tax_rate", args, c.code); e["field"] != c.field {
			t.Errorf("create_tax_rate(%v): %v, want field %s", args, e, c.field)
		}
	}
	l := ok(t, cs, "list_tax_rates", map[string]any{"active": true})
	mustContain(t, "list_tax_rates", l.text, "2 tax rates", ref+" VAT 19% in DE", inc.str("reference")+" GST 7.25% in SG")
	if l := ok(t, cs, "list_tax_rates", map[string]any{"active": false}); !strings.Contains(l.text, "No tax rates found.") {
		t.Fatalf("archived rates: %s", l.text)
	}
	if other := ok(t, w.overHTTP(w.keyB), "list_tax_rates", nil); strings.Contains(other.text, "txr_") {
		t.Fatalf("another merchant sees the rates: %s", other.text)
	}
}
