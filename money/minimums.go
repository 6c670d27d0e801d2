package money

import "strings"

// minimumCharges is Stripe's table of minimum charge amounts, in minor units of the charge's
// currency (stripe.com/docs/currencies, "Minimum and maximum charge amounts"). Stripe refuses a
// smaller charge (amount_too_small), and the sandbox processor follows the same table.
//
// The purchase workflow decides from this table whether a period's charge is sent or carried,
// so changing a value changes what running purchases do: guard such a change with
// workflow.GetVersion like any other change of the workflow's commands.
var minimumCharges = map[string]int64{
	"USD": 50,    // $0.50
	"AED": 200,   // 2.00 د.إ
	"AUD": 50,    // $0.50
	"BGN": 100,   // лв1.00
	"BRL": 50,    // R$0.50
	"CAD": 50,    // $0.50
	"CHF": 50,    // 0.50 Fr
	"CZK": 1500,  // 15.00 Kč
	"DKK": 250,   // 2.50 kr.
	"EUR": 50,    // €0.50
	"GBP": 30,    // £0.30
	"HKD": 400,   // $4.00
	"HUF": 17500, // 175.00 Ft
	"INR": 50,    // ₹0.50
	"JPY": 50,    // ¥50 (no minor unit)
	"MXN": 1000,  // $10
	"MYR": 200,   // RM 2
	"NOK": 300,   // 3.00 kr.
	"NZD": 50,    // $0.50
	"PLN": 200,   // 2.00 zł
	"RON": 200,   // lei2.00
	"SEK": 300,   // 3.00 kr.
	"SGD": 50,    // $0.50
	"THB": 1000,  // ฿10
}

// MinimumCharge is the smallest amount one charge in currency may be, in minor units. A
// currency missing from the table has no known minimum: any positive amount is sent (Stripe then
// holds it to the equivalent of $0.50 in the account's settlement currency, which cannot be
// known here).
func MinimumCharge(currency string) int64 {
	if m, ok := minimumCharges[strings.ToUpper(currency)]; ok {
		return m
	}
	return 1
}

// BelowMinimum reports whether amount is a charge the processor would refuse as too small: more
// than zero (zero is no charge at all) and less than the currency's minimum.
func BelowMinimum(currency string, amount int64) bool {
	return amount > 0 && amount < MinimumCharge(currency)
}
