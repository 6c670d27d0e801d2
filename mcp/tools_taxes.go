package mcp

import (
	"context"
	"fmt"
)

type taxRateView struct {
	Reference  string `json:"reference"`
	Name       string `json:"name"`
	Percentage string `json:"percentage"`
	Country    string `json:"country"`
	Inclusive  bool   `json:"inclusive"`
	Active     bool   `json:"active"`
}

func (r taxRateView) oneLine() string {
	s := fmt.Sprintf("%s %s %s%% in %s, ", r.Reference, r.Name, r.Percentage, r.Country)
	if r.Inclusive {
		s += "included in prices"
	} else {
		s += "added to prices"
	}
	if !r.Active {
		s += " (archived)"
	}
	return s
}

// taxTools are the merchant's tax rates: the rate of the customer's registered country applies to
// every charge (README "Taxes").
func taxTools() []tool {
	return []tool{
		{name: "list_tax_rates", title: "List tax rates",
			desc: "List the tax rates (txr_…), newest first: one active rate per country; a charge to a customer registered " +
				"in that country carries it. Archived rates no longer apply.",
			params: withPaging(param{name: "active", typ: tBoolean,
				desc: "true: only the rates that apply; false: only archived ones. Both when left out."}),
			readOnly: true, run: listTaxRates},
		{name: "create_tax_rate", title: "Create a tax rate",
			desc: "Create the tax rate of one country, applied to new charges of customers registered there. Exclusive " +
				"(the default) adds the tax to the price charged; inclusive splits it out of the price. Rounded half up per " +
				"line. A country has one active rate at a time; rates are never edited.",
			params: []param{
				{name: "name", typ: tString, required: true, desc: "What invoices call it, e.g. VAT or Sales tax."},
				{name: "percentage", typ: tString, required: true,
					desc: `The rate in percent as a decimal string, 0 to 100 with at most two decimals, e.g. "19" or "7.25".`},
				{name: "country", typ: tString, required: true,
					desc: "ISO 3166-1 alpha-2 code of the customers' registered country, upper case, e.g. DE."},
				{name: "inclusive", typ: tBoolean, desc: "true when prices already hold the tax; false (the default) adds it."}},
			run: createTaxRate},
	}
}

func listTaxRates(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []taxRateView `json:"data"`
	}
	out, err := c.get(ctx, path("tax-rates"), a.query("active", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, r := range list.Data {
		lines[i] = r.oneLine()
	}
	return listText("tax rates", list.Total, list.Page, list.Limit, lines), out, nil
}

func createTaxRate(ctx context.Context, c *call, a args) (string, any, error) {
	var r taxRateView
	out, err := c.post(ctx, path("tax-rates"), a.body("name", "percentage", "country", "inclusive"), &r)
	if err != nil {
		return "", nil, err
	}
	return "Created tax rate " + r.oneLine() + ".", out, nil
}
