package mcp

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// zeroDecimal and threeDecimal are the ISO 4217 currencies whose minor unit is not a hundredth
// (the same lists Stripe uses).
var (
	zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true,
		"KRW": true, "MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true,
		"XOF": true, "XPF": true, "ISK": true}
	threeDecimal = map[string]bool{"BHD": true, "IQD": true, "JOD": true, "KWD": true, "LYD": true, "OMR": true, "TND": true}
	symbols      = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "CA$",
		"NZD": "NZ$", "CHF": "CHF ", "INR": "₹"}
)

// money formats minor units for a person: 387100 USD → "$3,871.00", 1500 SEK → "15.00 SEK".
func money(minor int64, currency string) string {
	return formatMoney(minor, currency, false)
}

// price is money without ".00" on whole amounts, as prices are written ("$49/month").
func price(minor int64, currency string) string {
	return formatMoney(minor, currency, true)
}

func formatMoney(minor int64, currency string, trimWhole bool) string {
	currency = strings.ToUpper(currency)
	decimals := 2
	switch {
	case zeroDecimal[currency]:
		decimals = 0
	case threeDecimal[currency]:
		decimals = 3
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	unit := int64(1)
	for range decimals {
		unit *= 10
	}
	whole, frac := minor/unit, minor%unit
	s := groupThousands(whole)
	if decimals > 0 && !(trimWhole && frac == 0) {
		s += "." + fmt.Sprintf("%0*d", decimals, frac)
	}
	if sym, ok := symbols[currency]; ok {
		s = sym + s
	} else if currency != "" {
		s += " " + currency
	}
	if neg {
		s = "-" + s
	}
	return s
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// day is a date as the seeds write it: 2026-02-15 (UTC).
func day(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// cycleWord is the period of a billing cycle: "month" in "$49/month".
func cycleWord(cycle string, days int) string {
	switch cycle {
	case "weekly":
		return "week"
	case "quarterly":
		return "quarter"
	case "yearly":
		return "year"
	case "custom":
		return fmt.Sprintf("%d days", days)
	default:
		return "month"
	}
}

// planPrice describes what a plan costs: "$49/month", "$0.01 per unit", "$99 one-time", "free".
func planPrice(typ string, amount, unitPrice int64, currency, cycle string, cycleDays int) string {
	switch typ {
	case "free":
		return "free"
	case "one-time":
		return price(amount, currency) + " one-time"
	case "usage-based":
		if unitPrice > 0 {
			return price(unitPrice, currency) + " per unit"
		}
		return "pay per use"
	case "hybrid":
		s := price(amount, currency) + "/" + cycleWord(cycle, cycleDays)
		if unitPrice > 0 {
			s += " + " + price(unitPrice, currency) + " per extra unit"
		}
		return s
	default:
		return price(amount, currency) + "/" + cycleWord(cycle, cycleDays)
	}
}

// unitWord names what a meter counts, for "87 of 100 free requests".
func unitWord(meter string) string {
	switch {
	case meter == "tokens":
		return "tokens"
	case meter == "api_requests", meter == "requests", meter == "api_calls", meter == "":
		return "requests"
	case strings.HasPrefix(meter, "tool:"):
		return strings.TrimPrefix(meter, "tool:") + " calls"
	default:
		return meter + " units"
	}
}

// plural picks the singular or plural form by count: plural(1, "purchase", "purchases").
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// titleStatus is a purchase status for a person: "pending_cancellation" → "Pending cancellation".
func titleStatus(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}
