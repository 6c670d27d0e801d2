package money

import (
	"errors"
	"math"
	"testing"
)

func TestCheckedArithmetic(t *testing.T) {
	const max, min = math.MaxInt64, math.MinInt64
	for _, c := range []struct {
		op       string
		a, b     int64
		want     int64
		overflow bool
	}{
		{"+", 2, 3, 5, false},
		{"+", max - 1, 1, max, false},
		{"+", max, 1, 0, true},
		{"+", min, -1, 0, true},
		{"+", min, max, -1, false},
		{"×", 0, max, 0, false},
		{"×", 1_000_000_000, 9_223_372_036, 9_223_372_036_000_000_000, false},
		{"×", 1_000_000_000, 9_223_372_037, 0, true}, // 9.223372037e18 > MaxInt64
		{"×", 3_037_000_500, 3_037_000_500, 0, true}, // the square just above MaxInt64
		{"×", 3_037_000_499, 3_037_000_499, 9_223_372_030_926_249_001, false},
		{"×", 1 << 32, 1 << 31, 0, true}, // wraps to MinInt64 unchecked
		{"×", -1, min, 0, true},
		{"×", min, -1, 0, true}, // MinInt64 / -1 wraps back: the division test alone misses it
		{"×", -4, 5, -20, false},
	} {
		var got int64
		var err error
		if c.op == "+" {
			got, err = Add(c.a, c.b)
		} else {
			got, err = Mul(c.a, c.b)
		}
		if c.overflow != errors.Is(err, ErrOverflow) || (!c.overflow && (err != nil || got != c.want)) {
			t.Errorf("%d %s %d = %d, %v; want %d (overflow %v)", c.a, c.op, c.b, got, err, c.want, c.overflow)
		}
	}
}
