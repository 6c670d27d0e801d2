// Package money is Tollgate's money arithmetic, in one place: amounts are int64 counts of a
// currency's minor unit (cents, yen, fils), never floats. Besides proration (below) it holds
// checked sums and products (checked.go: an overflow is an error, never a wrapped amount) and
// the processor's smallest charge per currency (minimums.go). It does no I/O, so the purchase
// workflow uses it as it is.
//
// # The rounding rule of proration
//
// Time on a plan is priced by the second: a part of a billing period costs
//
//	price × quantity × (seconds of the part) / (seconds of the whole period)
//
// computed exactly in 128-bit integers and rounded once, to a whole minor unit, half to even.
// Each line of a quote (the credit for unused time, the charge for the rest of the period, the
// usage) is rounded on its own and the total is the sum of the rounded lines, so the lines a
// customer reads always add up to the total they pay.
//
// Why seconds: every boundary of a purchase is a whole second (the workflow stamps its times
// that way), and months, leap years and daylight-saving days differ in length; counting the
// period's own seconds needs no rule for which day counts, so there is no off-by-one day and a
// change at the very start or the very end of a period credits the whole or nothing.
// Why half to even: an amount lands exactly on a half minor unit often (a 9.99 plan for half of
// an even period), and always rounding up would overcharge the customer by a fraction of a cent
// on every such line; half to even is unbiased over many lines and is the rounding of IEEE 754
// and of most ledgers. Why once per line: rounding intermediate rates per day or per second
// accumulates error with the period's length; one rounding per line bounds the error of a line
// to half a minor unit, so over any sequence of changes in a period what the customer paid is
// within one minor unit per change of the time spent on each plan at its price (two lines per
// change; proration_test.go holds this).
package money

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/bojanz/currency"
)

// Digits is the ISO 4217 exponent of a currency: how many decimal places its minor unit has
// (USD 2, JPY 0, KWD 3). Amounts are always whole minor units, so rounding is to one of them
// whatever the exponent; Digits matters only for showing an amount to people.
func Digits(code string) (int, error) {
	d, ok := currency.GetDigits(strings.ToUpper(code))
	if !ok {
		return 0, fmt.Errorf("unknown currency %q", code)
	}
	return int(d), nil
}

// Format shows an amount of minor units for people: "49.99 USD", "1200 JPY", "5.125 KWD".
func Format(amount int64, code string) string {
	code = strings.ToUpper(code)
	d, err := Digits(code)
	if err != nil {
		d = 2
	}
	sign, n := "", amount
	if n < 0 {
		sign = "-"
	}
	s := strconv.FormatUint(absU(n), 10)
	if d > 0 {
		if len(s) <= d {
			s = strings.Repeat("0", d-len(s)+1) + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	return sign + s + " " + code
}

func absU(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1 // math.MinInt64 too
	}
	return uint64(n)
}

// Prorate returns amount × part / whole, rounded half to even to a whole minor unit. part is
// clamped to [0, whole]; a whole of zero or less prorates to nothing. The product is computed
// in 128 bits, so any int64 amount times any period length in seconds is exact.
func Prorate(amount, part, whole int64) int64 {
	if whole <= 0 || part <= 0 || amount == 0 {
		return 0
	}
	part = min(part, whole)
	neg := amount < 0
	hi, lo := bits.Mul64(absU(amount), uint64(part))
	q, r := bits.Div64(hi, lo, uint64(whole)) // hi < whole: amount < 2^63 and part ≤ whole
	w := uint64(whole)
	if r > w-r || (r == w-r && q&1 == 1) { // above half, or exactly half and q odd
		q++
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// Seconds is the length of [from, to) in whole seconds (0 when to is not after from).
func Seconds(from, to time.Time) int64 {
	if !to.After(from) {
		return 0
	}
	return int64(to.Sub(from) / time.Second)
}

// Price is what a plan costs for one of its periods: the unit amount times the quantity
// (seats; 0 counts as 1).
type Price struct {
	Amount   int64
	Quantity int64
}

// Total is the price of a whole period.
func (p Price) Total() int64 { return p.Amount * p.qty() }

func (p Price) qty() int64 {
	if p.Quantity <= 0 {
		return 1
	}
	return p.Quantity
}

// Period is a billing period [Start, End).
type Period struct {
	Start, End time.Time
}

// Seconds is the period's length.
func (p Period) Seconds() int64 { return Seconds(p.Start, p.End) }

// LineKind names what a line of a quote is for.
type LineKind string

const (
	// LineCredit gives back the unused part of the current period at the old price (negative).
	LineCredit LineKind = "credit"
	// LineCharge asks for the rest of the period at the new price.
	LineCharge LineKind = "charge"
	// LineUsage bills the old plan's metered overage up to the change.
	LineUsage LineKind = "usage"
	// LineBalance applies a credit the purchase carried from an earlier change (negative).
	LineBalance LineKind = "balance"
)

// Line is one line of a quote: an amount (negative for a credit) and what it is for.
type Line struct {
	Kind        LineKind  `json:"kind"`
	Description string    `json:"description"`
	Amount      int64     `json:"amount"`
	Quantity    int64     `json:"quantity,omitempty"`
	From        time.Time `json:"from,omitzero"`
	To          time.Time `json:"to,omitzero"`
}

// Sum is the total of lines.
func Sum(lines []Line) int64 {
	var t int64
	for _, l := range lines {
		t += l.Amount
	}
	return t
}

// Change is a plan (or quantity) change inside a billing period, in the terms the arithmetic
// needs: the calendar is the caller's (domain.Plan.PeriodBoundary), this package only counts
// seconds.
type Change struct {
	At time.Time
	// Old is the current period as paid for, and its price.
	Old      Period
	OldPrice Price
	// Trial: the period is a trial, paid by nobody. A change settles nothing now; the trial
	// runs on to its end on the new plan, whose price is charged then.
	Trial bool
	// New is the new plan's period that At falls in: the same as Old when the cycle is the same
	// (the anchor is kept), else a fresh period starting at At (a new cycle length restarts the
	// anchor, as Stripe does on an interval change).
	New      Period
	NewPrice Price
	// OldName and NewName name the plans in the lines' descriptions.
	OldName, NewName string
	Currency         string
}

// Prorations are the lines a change settles now: the credit for the unused part of the old
// period and the charge for the rest of the new one. Zero lines are left out.
func Prorations(c Change) []Line {
	if c.Trial {
		return nil
	}
	var lines []Line
	if l, ok := prorated(LineCredit, "Unused time on "+c.OldName, c.OldPrice, c.Old, c.At, c.Currency); ok {
		l.Amount = -l.Amount
		lines = append(lines, l)
	}
	if l, ok := prorated(LineCharge, "Remaining time on "+c.NewName, c.NewPrice, c.New, c.At, c.Currency); ok {
		lines = append(lines, l)
	}
	return lines
}

// prorated is the line for the part of period from at to its end at price; ok is false when
// it rounds to nothing.
func prorated(kind LineKind, what string, price Price, period Period, at time.Time, cur string) (Line, bool) {
	from := maxTime(at, period.Start)
	part := Seconds(from, period.End)
	a := Prorate(price.Total(), part, period.Seconds())
	return Line{Kind: kind, Amount: a, Quantity: price.qty(), From: from, To: period.End,
		Description: fmt.Sprintf("%s (%s of %s)", what, share(part, period.Seconds()), Format(price.Total(), cur))}, a != 0
}

// share says which part of a period a line covers, in days when they are whole.
func share(part, whole int64) string {
	const day = 86400
	if part%day == 0 && whole%day == 0 {
		return fmt.Sprintf("%d/%d days", part/day, whole/day)
	}
	return fmt.Sprintf("%d/%d s", part, whole)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RateCmp compares what two prices cost per unit of time, each over its nominal period length
// in days: -1 when a costs less than b, 0 the same, 1 more. A change to a plan that costs more
// per day is an upgrade.
func RateCmp(a Price, aDays int64, b Price, bDays int64) int {
	ah, al := bits.Mul64(absU(a.Total()), uint64(max(bDays, 1)))
	bh, bl := bits.Mul64(absU(b.Total()), uint64(max(aDays, 1)))
	switch {
	case ah < bh || (ah == bh && al < bl):
		return -1
	case ah == bh && al == bl:
		return 0
	}
	return 1
}
