package money

import "math/big"

// Tax arithmetic. Rates are basis points (1900 = 19 %). Rounding is per invoice line, half up
// in minor units of the line's currency: 0.5 of a cent becomes a cent. Amounts are never floats.

// ExclusiveTax is the tax added on top of net at rate bp: net × bp / 10000, half up.
func ExclusiveTax(net int64, bp int) int64 { return Share(net, int64(bp), 10_000) }

// InclusiveTax is the tax inside gross at rate bp: gross − gross × 10000 / (10000 + bp), the
// net rounded half up (so the tax is what is left of gross).
func InclusiveTax(gross int64, bp int) int64 {
	if bp <= 0 {
		return 0
	}
	return gross - Share(gross, 10_000, 10_000+int64(bp))
}

// Share is amount × part / whole rounded half up, exact for any int64 inputs (amount, part ≥ 0,
// whole > 0, part ≤ whole keeps the result within amount); 0 when whole is 0.
func Share(amount, part, whole int64) int64 {
	if whole == 0 || part == 0 || amount == 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(amount), big.NewInt(part))
	n.Mul(n, big.NewInt(2)).Add(n, big.NewInt(whole))
	return n.Quo(n, big.NewInt(2*whole)).Int64()
}
