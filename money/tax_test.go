package money

import (
	"math"
	"testing"
)

// Hand-computed: 19 % of 4900 is 931; of 4999 is 949.81 → 950; of 5 is 0.95 → 1; 7 % of 50 is
// 3.5 → 4 (half up); 4900 with 19 % inside is net 4117.647 → 4118, tax 782.
func TestTaxRounding(t *testing.T) {
	for _, c := range []struct {
		amount    int64
		bp        int
		inclusive bool
		want      int64
	}{
		{4900, 1900, false, 931},
		{4999, 1900, false, 950},
		{5, 1900, false, 1},
		{50, 700, false, 4},
		{49, 700, false, 3}, // 3.43
		{4900, 0, false, 0},
		{4900, 1900, true, 782},
		{5950, 1900, true, 950}, // 5000 + 950 exactly
		{1, 1900, true, 0},      // net 0.84 → 1, tax 0
		{100, 10000, false, 100},
		{100, 10000, true, 50},
	} {
		got := ExclusiveTax(c.amount, c.bp)
		if c.inclusive {
			got = InclusiveTax(c.amount, c.bp)
		}
		if got != c.want {
			t.Errorf("tax of %d at %d bp (inclusive %v) = %d, want %d", c.amount, c.bp, c.inclusive, got, c.want)
		}
	}
	if got := Share(math.MaxInt64, 1, 1); got != math.MaxInt64 {
		t.Errorf("Share(max, 1, 1) = %d", got)
	}
	if got := Share(1000, 931, 5831); got != 160 { // a refund of 1000 of a 5831 invoice with 931 tax: 159.66
		t.Errorf("Share(1000, 931, 5831) = %d, want 160", got)
	}
}
