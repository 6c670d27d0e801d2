package domain

import "testing"

func TestParsePercentage(t *testing.T) {
	for in, want := range map[string]int{"19": 1900, "7.25": 725, "0.5": 50, "0": 0, "100": 10000, "100.00": 10000, "5.0": 500} {
		if bp, ok := ParsePercentage(in); !ok || bp != want {
			t.Errorf("%q: %d %v, want %d", in, bp, ok, want)
		}
		if back := FormatPercentage(want); back != map[int]string{1900: "19", 725: "7.25", 50: "0.5", 0: "0", 10000: "100", 500: "5"}[want] {
			t.Errorf("format %d: %q", want, back)
		}
	}
	for _, in := range []string{"", "100.01", "101", "-1", "19.125", "1e1", "19.", ".5", "nineteen", "true", "1 9", "+19", "0x10"} {
		if bp, ok := ParsePercentage(in); ok {
			t.Errorf("%q accepted as %d", in, bp)
		}
	}
}

func TestTaxCharge(t *testing.T) {
	de := &TaxRate{Ref: "txr_de", Name: "VAT", BasisPoints: 1900, Country: "DE"}
	deIncl := &TaxRate{Ref: "txr_de", Name: "MwSt", BasisPoints: 1900, Country: "DE", Inclusive: true}
	vat := func(id string) []TaxID { return []TaxID{{ID: id, Type: "EU_VAT"}} }
	cases := []struct {
		name    string
		amount  int64
		subject TaxSubject
		rate    *TaxRate
		want    ChargeTax
	}{
		{"exclusive adds, half up", 1999, TaxSubject{SellerCountry: "NL", BuyerCountry: "DE"}, de,
			ChargeTax{Net: 1999, Tax: 380, Total: 2379, RateRef: "txr_de", Name: "VAT", BasisPoints: 1900, Country: "DE"}},
		{"inclusive splits", 100, TaxSubject{SellerCountry: "NL", BuyerCountry: "DE"}, deIncl,
			ChargeTax{Net: 84, Tax: 16, Total: 100, RateRef: "txr_de", Name: "MwSt", BasisPoints: 1900, Inclusive: true, Country: "DE"}},
		{"no rate, no tax", 1999, TaxSubject{SellerCountry: "NL", BuyerCountry: "US"}, nil,
			ChargeTax{Net: 1999, Total: 1999, Country: "US"}},
		{"EU VAT ID of another member state: reverse charge", 1999, TaxSubject{SellerCountry: "NL", BuyerCountry: "DE",
			BuyerTaxIDs: vat("DE123456789")}, de, ChargeTax{Net: 1999, Total: 1999, Country: "DE", Note: ReverseChargeNote}},
		{"Greek VAT IDs start with EL", 500, TaxSubject{SellerCountry: "DE", BuyerCountry: "GR",
			BuyerTaxIDs: []TaxID{{ID: "EL094259216"}}}, nil, ChargeTax{Net: 500, Total: 500, Country: "GR", Note: ReverseChargeNote}},
		{"VAT ID of the seller's own state: taxed", 1999, TaxSubject{SellerCountry: "DE", BuyerCountry: "DE",
			BuyerTaxIDs: vat("DE123456789")}, de,
			ChargeTax{Net: 1999, Tax: 380, Total: 2379, RateRef: "txr_de", Name: "VAT", BasisPoints: 1900, Country: "DE"}},
		{"a national tax number is no VAT ID", 1999, TaxSubject{SellerCountry: "NL", BuyerCountry: "DE",
			BuyerTaxIDs: []TaxID{{ID: "368807022", Type: "GENERIC_TAX_ID"}}}, de,
			ChargeTax{Net: 1999, Tax: 380, Total: 2379, RateRef: "txr_de", Name: "VAT", BasisPoints: 1900, Country: "DE"}},
		{"a seller outside the EU charges no reverse charge", 1000, TaxSubject{SellerCountry: "US", BuyerCountry: "DE",
			BuyerTaxIDs: vat("DE123456789")}, de,
			ChargeTax{Net: 1000, Tax: 190, Total: 1190, RateRef: "txr_de", Name: "VAT", BasisPoints: 1900, Country: "DE"}},
	}
	for _, c := range cases {
		if got := TaxCharge(c.amount, c.subject, c.rate); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}
