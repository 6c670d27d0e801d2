package web

import (
	"strconv"
	"strings"
	"time"
)

// validateCard checks a typed card the way any card form does before it reaches a processor,
// and returns the number (digits only) as the sandbox's payment method. Errors are per field,
// in words.
func validateCard(number, exp, cvc, name string, now time.Time) (string, map[string]string) {
	errs := map[string]string{}
	digits := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(number))
	switch {
	case digits == "":
		errs["number"] = "Enter your card number."
	case !allDigits(digits) || len(digits) < 12 || len(digits) > 19 || !luhn(digits):
		errs["number"] = "Your card number is incorrect."
	}
	if msg := checkExpiry(exp, now); msg != "" {
		errs["exp"] = msg
	}
	cvc = strings.TrimSpace(cvc)
	if !allDigits(cvc) || len(cvc) < 3 || len(cvc) > 4 {
		errs["cvc"] = "Enter the 3 or 4 digit security code."
	}
	if strings.TrimSpace(name) == "" {
		errs["name"] = "Enter the name on the card."
	}
	if len(errs) > 0 {
		return "", errs
	}
	return digits, nil
}

// checkExpiry accepts "MM/YY", "MM / YY" and "MM/YYYY"; a card is valid through its month.
func checkExpiry(exp string, now time.Time) string {
	parts := strings.Split(strings.ReplaceAll(exp, " ", ""), "/")
	if len(parts) != 2 {
		return "Enter the expiry date as MM / YY."
	}
	month, err1 := strconv.Atoi(parts[0])
	year, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || month < 1 || month > 12 || (len(parts[1]) != 2 && len(parts[1]) != 4) {
		return "Enter the expiry date as MM / YY."
	}
	if year < 100 {
		year += 2000
	}
	if year*12+month < now.Year()*12+int(now.Month()) {
		return "Your card has expired."
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// luhn is the checksum every card number carries; it catches most typos.
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
