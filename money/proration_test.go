package money_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/money"
)

func utc(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func period(from, to time.Time) money.Period { return money.Period{Start: from, End: to} }

func usd(a int64) money.Price                  { return money.Price{Amount: a} }
func seats(a, n int64) money.Price             { return money.Price{Amount: a, Quantity: n} }
func ymd(y int, m time.Month, d int) time.Time { return utc(y, m, d, 0) }

// TestProrationsTable holds the proration of a plan change to amounts computed by hand. Each
// comment shows the arithmetic: price × unused seconds / period seconds, rounded half to even,
// one rounding per line; credit is the old plan's unused part, charge the new plan's rest.
func TestProrationsTable(t *testing.T) {
	jan := period(ymd(2026, 1, 1), ymd(2026, 2, 1))     // 31 days
	feb := period(ymd(2026, 2, 1), ymd(2026, 3, 1))     // 28 days
	leapFeb := period(ymd(2028, 2, 1), ymd(2028, 3, 1)) // 29 days
	apr := period(ymd(2026, 4, 1), ymd(2026, 5, 1))     // 30 days
	year26 := period(ymd(2026, 1, 1), ymd(2027, 1, 1))  // 365 days
	year28 := period(ymd(2028, 1, 1), ymd(2029, 1, 1))  // 366 days
	week := period(ymd(2026, 1, 5), ymd(2026, 1, 12))   // 7 days
	paris, _ := time.LoadLocation("Europe/Paris")
	// March on a Paris calendar: 31 days less the hour daylight saving takes (2,674,800 s)
	march := period(time.Date(2026, 3, 1, 0, 0, 0, 0, paris).UTC(), time.Date(2026, 4, 1, 0, 0, 0, 0, paris).UTC())

	cases := []struct {
		name           string
		c              money.Change
		credit, charge int64 // credit as a positive number; 0 = no line
	}{
		// upgrades and downgrades on day 1, mid-period, the last day
		{"upgrade on day 1 (31-day month)", money.Change{At: jan.Start, Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			1000, 3000}, // the whole period both ways
		{"upgrade mid-period (31-day month, 16 days left)", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			516, 1548}, // 1000×16/31 = 516.13; 3000×16/31 = 1548.39
		{"upgrade on the last day (1 day left of 31)", money.Change{At: ymd(2026, 1, 31), Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			32, 97}, // 1000/31 = 32.26; 3000/31 = 96.77
		{"downgrade on day 1 (30-day month)", money.Change{At: apr.Start, Old: apr, OldPrice: usd(2500), New: apr, NewPrice: usd(1000)},
			2500, 1000},
		{"downgrade mid-period (31-day month)", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(3000), New: jan, NewPrice: usd(1000)},
			1548, 516},
		{"downgrade on the last day (30-day month)", money.Change{At: ymd(2026, 4, 30), Old: apr, OldPrice: usd(2500), New: apr, NewPrice: usd(1000)},
			83, 33}, // 2500/30 = 83.33; 1000/30 = 33.33
		{"one second before the period ends", money.Change{At: jan.End.Add(-time.Second), Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			0, 0}, // 1000/2,678,400 and 3000/2,678,400 round to nothing
		{"at the period end exactly", money.Change{At: jan.End, Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			0, 0},
		{"half a day into a 31-day month", money.Change{At: utc(2026, 1, 1, 12), Old: jan, OldPrice: usd(3100), New: jan, NewPrice: usd(6200)},
			3050, 6100}, // 30.5/31 of each
		// 28-, 29-, 30-day months; exact halves round to even
		{"28-day month, half left, halves round to even", money.Change{At: ymd(2026, 2, 15), Old: feb, OldPrice: usd(999), New: feb, NewPrice: usd(2001)},
			500, 1000}, // 499.5 → 500 (even); 1000.5 → 1000 (even)
		{"29-day month (leap February), 15 days left", money.Change{At: ymd(2028, 2, 15), Old: leapFeb, OldPrice: usd(2900), New: leapFeb, NewPrice: usd(5800)},
			1500, 3000}, // 2900×15/29; 5800×15/29
		{"30-day month, 20 days left", money.Change{At: ymd(2026, 4, 11), Old: apr, OldPrice: usd(1000), New: apr, NewPrice: usd(2500)},
			667, 1667}, // 666.67; 1666.67
		{"weekly plan, half a week left", money.Change{At: utc(2026, 1, 8, 12), Old: week, OldPrice: usd(700), New: week, NewPrice: usd(1500)},
			350, 750},
		{"month on a calendar with a daylight-saving change", money.Change{At: time.Date(2026, 3, 16, 0, 0, 0, 0, paris).UTC(), Old: march, OldPrice: usd(3100), New: march, NewPrice: usd(6200)},
			1598, 3196}, // 1,378,800 s of 2,674,800 left: 1597.98; 3195.96
		// monthly ↔ yearly: a new cycle length starts a fresh period at the change
		{"monthly to yearly mid-month", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(1000), New: period(ymd(2026, 1, 16), ymd(2027, 1, 16)), NewPrice: usd(10000)},
			516, 10000}, // unused 16/31 of the month; the whole new year
		{"yearly to monthly half-way through the year", money.Change{At: ymd(2026, 7, 2), Old: year26, OldPrice: usd(36500), New: period(ymd(2026, 7, 2), ymd(2026, 8, 2)), NewPrice: usd(4000)},
			18300, 4000}, // 36500×183/365; a whole new month
		{"yearly upgrade in a leap year", money.Change{At: ymd(2028, 3, 1), Old: year28, OldPrice: usd(36600), New: year28, NewPrice: usd(73200)},
			30600, 61200}, // 306 of 366 days left
		// trials: nothing was paid, nothing is settled now
		{"upgrade during a trial", money.Change{At: ymd(2026, 1, 5), Old: period(ymd(2026, 1, 1), ymd(2026, 1, 15)), OldPrice: usd(1000), Trial: true,
			New: period(ymd(2026, 1, 1), ymd(2026, 1, 15)), NewPrice: usd(3000)}, 0, 0},
		{"downgrade during a trial", money.Change{At: ymd(2026, 1, 14), Old: period(ymd(2026, 1, 1), ymd(2026, 1, 15)), OldPrice: usd(3000), Trial: true,
			New: period(ymd(2026, 1, 1), ymd(2026, 1, 15)), NewPrice: usd(1000)}, 0, 0},
		// seats: the quantity multiplies the price before the one rounding
		{"seats 3 → 5, half of a 30-day month left", money.Change{At: ymd(2026, 4, 16), Old: apr, OldPrice: seats(1000, 3), New: apr, NewPrice: seats(1000, 5)},
			1500, 2500},
		{"seats 5 → 2, 10 of 30 days left", money.Change{At: ymd(2026, 4, 21), Old: apr, OldPrice: seats(1000, 5), New: apr, NewPrice: seats(1000, 2)},
			1667, 667}, // 5000/3 = 1666.67; 2000/3 = 666.67
		{"4 seats from 8.00 to 12.00, 16 of 31 days left", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: seats(800, 4), New: jan, NewPrice: seats(1200, 4)},
			1652, 2477}, // 3200×16/31 = 1651.61; 4800×16/31 = 2477.42
		// zero-price plans
		{"free to paid mid-month", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(0), New: jan, NewPrice: usd(2000)},
			0, 1032}, // 2000×16/31 = 1032.26
		{"paid to free mid-month", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(2000), New: jan, NewPrice: usd(0)},
			1032, 0},
		{"free to free", money.Change{At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(0), New: jan, NewPrice: usd(0)}, 0, 0},
		// currencies with 0 and 3 decimals: the same rule, one minor unit (1 yen, 1 fils)
		{"JPY 980 → 1980, 21 of 28 days left", money.Change{Currency: "JPY", At: ymd(2026, 2, 8), Old: feb, OldPrice: usd(980), New: feb, NewPrice: usd(1980)},
			735, 1485},
		{"JPY 1000 → 3000, 16 of 31 days left", money.Change{Currency: "JPY", At: ymd(2026, 1, 16), Old: jan, OldPrice: usd(1000), New: jan, NewPrice: usd(3000)},
			516, 1548},
		{"KWD 5.000 → 12.500, 20 of 30 days left", money.Change{Currency: "KWD", At: ymd(2026, 4, 11), Old: apr, OldPrice: usd(5000), New: apr, NewPrice: usd(12500)},
			3333, 8333}, // 3333.33; 8333.33 fils
		{"KWD 1.001 → 2.003, half left, halves to even", money.Change{Currency: "KWD", At: ymd(2026, 2, 15), Old: feb, OldPrice: usd(1001), New: feb, NewPrice: usd(2003)},
			500, 1002}, // 500.5 → 500; 1001.5 → 1002
		// amounts whose product with the period's seconds overflows int64
		{"9,000,000,000.00 a year to free on the last day of a leap year", money.Change{At: ymd(2028, 12, 31), Old: year28, OldPrice: usd(900_000_000_000), New: year28, NewPrice: usd(0)},
			2_459_016_393, 0}, // 900,000,000,000 / 366 = 2,459,016,393.44
	}
	if len(cases) < 25 {
		t.Fatalf("the table must hold at least 25 cases, has %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.Currency == "" {
				tc.c.Currency = "USD"
			}
			tc.c.OldName, tc.c.NewName = "Old", "New"
			lines := money.Prorations(tc.c)
			var credit, charge int64
			for _, l := range lines {
				switch l.Kind {
				case money.LineCredit:
					credit -= l.Amount
				case money.LineCharge:
					charge += l.Amount
				}
				if l.Amount == 0 {
					t.Errorf("a line of nothing: %+v", l)
				}
			}
			if credit != tc.credit || charge != tc.charge {
				t.Fatalf("credit %d, charge %d; want %d, %d (lines %+v)", credit, charge, tc.credit, tc.charge, lines)
			}
			if got := money.Sum(lines); got != tc.charge-tc.credit {
				t.Fatalf("total %d, want %d", got, tc.charge-tc.credit)
			}
		})
	}
}

func TestProrateRoundsHalfToEven(t *testing.T) {
	for _, c := range []struct{ amount, part, whole, want int64 }{
		{1, 1, 2, 0}, {3, 1, 2, 2}, {5, 1, 2, 2}, {7, 1, 2, 4}, {-3, 1, 2, -2}, {-5, 1, 2, -2},
		{10, 1, 3, 3}, {20, 1, 3, 7}, {100, 0, 30, 0}, {100, 45, 30, 100}, {100, 5, 0, 0},
		{9_223_372_036_854_775_807, 31_622_399, 31_622_400, 9_223_371_745_182_668_793},
	} {
		if got := money.Prorate(c.amount, c.part, c.whole); got != c.want {
			t.Errorf("Prorate(%d, %d, %d) = %d, want %d", c.amount, c.part, c.whole, got, c.want)
		}
	}
}

// TestProrationProperty: over random sequences of changes inside one period, what the customer
// paid (the period's price up front, then each change's lines) equals the time spent on each
// plan at its price, within one minor unit per change.
func TestProrationProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2026))
	lengths := []time.Duration{28, 29, 30, 31, 7, 365, 366}
	for run := 0; run < 5000; run++ {
		start := ymd(2026, 1, 1).Add(time.Duration(rng.Int64N(400*86400)) * time.Second)
		p := period(start, start.Add(lengths[rng.IntN(len(lengths))]*24*time.Hour))
		L := p.Seconds()
		price := money.Price{Amount: rng.Int64N(1_000_000), Quantity: 1 + rng.Int64N(20)}
		paid := price.Total()
		exact := new(big.Rat)
		at, changes := p.Start, rng.IntN(12)
		for i := 0; i < changes; i++ {
			next := at.Add(time.Duration(rng.Int64N(money.Seconds(at, p.End)+1)) * time.Second)
			exact.Add(exact, big.NewRat(price.Total()*money.Seconds(at, next), L))
			np := money.Price{Amount: rng.Int64N(1_000_000), Quantity: 1 + rng.Int64N(20)}
			if rng.IntN(4) == 0 {
				np = price // the same price again (a rename, a quantity kept)
			}
			paid += money.Sum(money.Prorations(money.Change{At: next, Old: p, OldPrice: price, New: p, NewPrice: np, Currency: "USD"}))
			at, price = next, np
		}
		exact.Add(exact, big.NewRat(price.Total()*money.Seconds(at, p.End), L))
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(paid), exact)
		if diff.Abs(diff).Cmp(big.NewRat(int64(changes), 1)) > 0 {
			t.Fatalf("run %d: paid %d, time on each plan is worth %s: off by %s after %d changes",
				run, paid, exact.FloatString(3), diff.FloatString(3), changes)
		}
	}
}

func TestDigitsAndFormat(t *testing.T) {
	for code, want := range map[string]int{"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "usd": 2} {
		if d, err := money.Digits(code); err != nil || d != want {
			t.Errorf("Digits(%s) = %d, %v; want %d", code, d, err, want)
		}
	}
	if _, err := money.Digits("XXY"); err == nil {
		t.Error("an unknown currency has digits")
	}
	for _, c := range []struct {
		amount int64
		code   string
		want   string
	}{{4999, "USD", "49.99 USD"}, {5, "usd", "0.05 USD"}, {-1032, "USD", "-10.32 USD"}, {1980, "JPY", "1980 JPY"},
		{5125, "KWD", "5.125 KWD"}, {7, "KWD", "0.007 KWD"}, {0, "EUR", "0.00 EUR"}} {
		if got := money.Format(c.amount, c.code); got != c.want {
			t.Errorf("Format(%d, %s) = %q, want %q", c.amount, c.code, got, c.want)
		}
	}
}

func TestRateCmp(t *testing.T) {
	for _, c := range []struct {
		a       money.Price
		aDays   int64
		b       money.Price
		bDays   int64
		want    int
		comment string
	}{
		{usd(1000), 30, usd(3000), 30, -1, "monthly 10 < monthly 30"},
		{usd(3000), 30, usd(1000), 30, 1, "monthly 30 > monthly 10"},
		{usd(1000), 30, usd(1000), 30, 0, "same price"},
		{usd(1000), 30, usd(10000), 365, 1, "10 a month costs more per day than 100 a year"},
		{usd(1000), 30, usd(15000), 365, -1, "10 a month costs less per day than 150 a year"},
		{seats(1000, 2), 30, seats(1000, 3), 30, -1, "2 seats < 3 seats"},
	} {
		if got := money.RateCmp(c.a, c.aDays, c.b, c.bDays); got != c.want {
			t.Errorf("%s: RateCmp = %d, want %d", c.comment, got, c.want)
		}
	}
}
