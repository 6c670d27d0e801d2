package money

import "testing"

// Hand-checked against Stripe's table of minimum charge amounts.
func TestBelowMinimum(t *testing.T) {
	for _, c := range []struct {
		currency string
		amount   int64
		below    bool
	}{
		{"USD", 0, false}, // zero is no charge, not a small one
		{"USD", 1, true},
		{"USD", 49, true},
		{"USD", 50, false},
		{"usd", 49, true}, // the case of the code does not matter
		{"EUR", 49, true},
		{"EUR", 50, false},
		{"GBP", 29, true},
		{"GBP", 30, false},
		{"JPY", 49, true}, // yen have no minor unit: ¥50
		{"JPY", 50, false},
		{"HUF", 17499, true},
		{"HUF", 17500, false},
		{"MXN", 999, true},
		{"MXN", 1000, false},
		{"XYZ", 1, false}, // no known minimum: any positive amount is sent
		{"USD", -5, false},
	} {
		if got := BelowMinimum(c.currency, c.amount); got != c.below {
			t.Errorf("BelowMinimum(%s, %d) = %v, want %v", c.currency, c.amount, got, c.below)
		}
	}
	if MinimumCharge("gbp") != 30 || MinimumCharge("XYZ") != 1 {
		t.Fatalf("MinimumCharge: GBP %d, XYZ %d", MinimumCharge("gbp"), MinimumCharge("XYZ"))
	}
}
