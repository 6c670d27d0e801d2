package domain

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/money"
)

// TaxRate is a merchant's tax of one country in one mode. A rate is never edited: it is
// archived and another created, so an invoice's rate stays what it was when it was issued.
type TaxRate struct {
	Ref         string     `json:"reference"` // txr_
	MerchantRef string     `json:"-"`
	Mode        string     `json:"mode"`
	Name        string     `json:"name"`
	Percentage  string     `json:"percentage"`  // exact decimal, e.g. "19" or "7.25"
	BasisPoints int        `json:"basisPoints"` // the same rate in hundredths of a percent: 1900
	Country     string     `json:"country"`     // ISO 3166-1 alpha-2
	Inclusive   bool       `json:"inclusive"`
	Active      bool       `json:"active"`
	CreatedAt   time.Time  `json:"createdAt"`
	ArchivedAt  *time.Time `json:"archivedAt,omitempty"`
}

// ReverseChargeNote is printed on an invoice to an EU business in another member state: the
// buyer accounts for the VAT (Article 196 of Directive 2006/112/EC), the invoice charges none.
const ReverseChargeNote = "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."

// euMembers are the EU member states by ISO 3166-1 alpha-2 code.
var euMembers = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
}

// IsEUMember reports whether country (ISO 3166-1 alpha-2) is an EU member state.
func IsEUMember(country string) bool { return euMembers[strings.ToUpper(country)] }

// VATCountry is the member state of an EU VAT ID: its two-letter prefix (EL is Greece), when the
// ID is typed as a VAT ID (EU_VAT, eu_vat, VAT) or, untyped, starts with a member state's prefix.
// "" when id is not an EU VAT ID (a national tax number such as seed 002's GENERIC_TAX_ID).
func VATCountry(id TaxID) string {
	v := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(id.ID), " ", ""))
	typ := strings.ToUpper(id.Type)
	if len(v) < 4 || (typ != "" && typ != "EU_VAT" && typ != "VAT") {
		return ""
	}
	c := v[:2]
	if c == "EL" {
		c = "GR"
	}
	if !euMembers[c] {
		return ""
	}
	return c
}

// TaxSubject is who a charge is taxed for: the seller's country, and the buyer's registered
// country and tax IDs.
type TaxSubject struct {
	SellerCountry string
	BuyerCountry  string
	BuyerTaxIDs   []TaxID
}

// ReverseCharge reports whether the buyer is an EU business registered for VAT in another member
// state than the seller's: then the invoice carries ReverseChargeNote and no tax.
func (s TaxSubject) ReverseCharge() bool {
	seller := strings.ToUpper(s.SellerCountry)
	if !IsEUMember(seller) || !IsEUMember(s.BuyerCountry) {
		return false
	}
	for _, id := range s.BuyerTaxIDs {
		if c := VATCountry(id); c != "" && c != seller {
			return true
		}
	}
	return false
}

// ChargeTax is the tax of one charge: the amount asked (net for an exclusive rate, gross for an
// inclusive one), the tax in it or on top, and the total charged.
type ChargeTax struct {
	Net, Tax, Total int64
	RateRef         string
	Name            string
	BasisPoints     int
	Inclusive       bool
	Country         string
	Note            string // the reverse-charge note
}

// TaxCharge computes the tax of a charge of amount (minor units) for subject at rate (nil: the
// merchant has no rate for the buyer's country, and nothing is taxed). The charge is one invoice
// line, and tax is rounded per line, half up (money.ExclusiveTax, money.InclusiveTax): an
// exclusive rate adds its tax to the amount charged, an inclusive one splits it out of amount.
func TaxCharge(amount int64, subject TaxSubject, rate *TaxRate) ChargeTax {
	t := ChargeTax{Net: amount, Total: amount, Country: strings.ToUpper(subject.BuyerCountry)}
	switch {
	case subject.ReverseCharge():
		t.Note = ReverseChargeNote
		return t
	case rate == nil:
		return t
	}
	t.RateRef, t.Name, t.BasisPoints, t.Inclusive = rate.Ref, rate.Name, rate.BasisPoints, rate.Inclusive
	if rate.Inclusive {
		t.Tax = money.InclusiveTax(amount, rate.BasisPoints)
		t.Net = amount - t.Tax
		return t
	}
	t.Tax = money.ExclusiveTax(amount, rate.BasisPoints)
	t.Total = amount + t.Tax
	return t
}

// TaxRoundingNote says on a taxed document how its tax was rounded.
const TaxRoundingNote = "Tax is computed per line and rounded half up to the currency's minor unit."

// TaxLabel names the tax of a document's lines: the rate's name and percentage ("VAT 19%",
// "VAT 19% included" for an inclusive rate), or "Tax" when no rate applied.
func TaxLabel(lines []InvoiceLine) string {
	for _, l := range lines {
		if l.TaxName == "" && l.TaxRateBP == 0 {
			continue
		}
		label := cmp.Or(l.TaxName, "Tax") + " " + FormatPercentage(l.TaxRateBP) + "%"
		if l.TaxIncluded {
			label += " included"
		}
		return label
	}
	return "Tax"
}

// ParsePercentage reads an exact percentage between 0 and 100 with at most two decimals ("19",
// "7.25", "0.5") as basis points; ok is false for anything else.
func ParsePercentage(s string) (bp int, ok bool) {
	whole, frac, hasDot := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 3 || len(frac) > 2 || (hasDot && frac == "") {
		return 0, false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n := 0
	for _, c := range whole + frac {
		n = n*10 + int(c-'0')
	}
	return n, n <= 10_000
}

// FormatPercentage writes basis points as the shortest exact percentage: 1900 → "19", 725 → "7.25".
func FormatPercentage(bp int) string {
	s := strconv.Itoa(bp / 100)
	if f := bp % 100; f != 0 {
		s += "." + strings.TrimRight(string([]byte{byte('0' + f/10), byte('0' + f%10)}), "0")
	}
	return s
}
