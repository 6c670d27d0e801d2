package money

import (
	"errors"
	"fmt"
	"math"
)

// ErrOverflow: the exact result does not fit in an int64. An amount that overflowed is refused,
// never wrapped into a negative or a smaller charge.
var ErrOverflow = errors.New("amount out of range")

// Add is a + b, or ErrOverflow.
func Add(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, fmt.Errorf("%d + %d: %w", a, b, ErrOverflow)
	}
	return a + b, nil
}

// Mul is a × b, or ErrOverflow.
func Mul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	c := a * b
	if c/b != a || (b == -1 && a == math.MinInt64) { // MinInt64 / -1 wraps back to MinInt64
		return 0, fmt.Errorf("%d × %d: %w", a, b, ErrOverflow)
	}
	return c, nil
}
