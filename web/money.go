package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// minorDigits is ISO 4217's number of minor-unit digits where it is not 2.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// symbols are the currencies whose sign people read without ambiguity; others show the code.
var symbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩",
	"CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK ",
}

// formatMoney renders an amount in minor units: 4900 USD → "$49.00", -2500 EUR → "−€25.00",
// 1200 JPY → "¥1,200". Integer arithmetic only: money never passes through a float.
func formatMoney(amount int64, currency string) string {
	cur := strings.ToUpper(currency)
	digits, ok := minorDigits[cur]
	if !ok {
		digits = 2
	}
	sign := ""
	if amount < 0 {
		sign, amount = "−", -amount
	}
	var unit int64 = 1
	for range digits {
		unit *= 10
	}
	s := groupThousands(strconv.FormatInt(amount/unit, 10))
	if digits > 0 {
		s += "." + fmt.Sprintf("%0*d", digits, amount%unit)
	}
	if sym, ok := symbols[cur]; ok {
		return sign + sym + s
	}
	return sign + s + " " + cur
}

func groupThousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// cadence says how often a plan charges: "per month", "every 14 days".
func cadence(p domain.Plan) string {
	switch p.BillingCycle {
	case domain.CycleWeekly:
		return "per week"
	case domain.CycleQuarterly:
		return "every 3 months"
	case domain.CycleYearly:
		return "per year"
	case domain.CycleCustom:
		if p.CycleDays == 1 {
			return "per day"
		}
		return fmt.Sprintf("every %d days", p.CycleDays)
	}
	return "per month"
}

// cycleName is a cycle as one word for the summary ("Monthly").
func cycleName(p domain.Plan) string {
	switch p.Type {
	case domain.PlanOneTime:
		return "One-time"
	case domain.PlanFree:
		return "Free"
	}
	switch p.BillingCycle {
	case domain.CycleWeekly:
		return "Weekly"
	case domain.CycleQuarterly:
		return "Quarterly"
	case domain.CycleYearly:
		return "Yearly"
	case domain.CycleCustom:
		return fmt.Sprintf("Every %d days", p.CycleDays)
	}
	return "Monthly"
}

// pricing is the plan's price and how often it is charged ("per month"); the cadence is empty
// for one-time and free plans.
func pricing(p domain.Plan) (price, per string) {
	switch p.Type {
	case domain.PlanFree:
		return "Free", ""
	case domain.PlanOneTime:
		return formatMoney(p.Price, p.Currency), ""
	case domain.PlanUsageBased:
		return formatMoney(p.UnitPrice, p.Currency), "per unit"
	}
	return formatMoney(p.Price, p.Currency), cadence(p)
}

// priceLine is the plan's price as people read it on a checkout.
func priceLine(p domain.Plan) string {
	price, per := pricing(p)
	if per == "" {
		return price
	}
	return price + " " + per
}

// usageLine explains metered pricing, or "" for plans without it.
func usageLine(p domain.Plan) string {
	if !p.Metered() {
		return ""
	}
	meter := strings.ReplaceAll(p.Meter, "_", " ")
	if meter == "" {
		meter = "units"
	}
	line := fmt.Sprintf("Usage billed at %s per unit of %s at the end of each period", formatMoney(p.UnitPrice, p.Currency), meter)
	if p.FreeUnits > 0 {
		line += fmt.Sprintf(", the first %s included", groupThousands(strconv.FormatInt(p.FreeUnits, 10)))
	}
	return line + "."
}

// dueToday is what the first payment takes: nothing during a trial, else the price and any
// setup fee (usage is billed later).
func dueToday(p domain.Plan) int64 {
	if p.TrialDays > 0 && p.Recurring() {
		return 0
	}
	amount := p.SetupFee
	switch p.Type {
	case domain.PlanRecurring, domain.PlanHybrid, domain.PlanOneTime:
		amount += p.Price
	}
	return amount
}

// formatDate is a calendar date for people: "15 Feb 2026".
func formatDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2 Jan 2006")
}
