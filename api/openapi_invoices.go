package api

import (
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// OpenAPI operations of invoices and credit notes (invoices.go).

var invoiceFilters = []param{
	{Name: "customerRef", Description: "cus_ reference (or customerId)"},
	{Name: "purchaseRef", Description: "pur_ reference (or purchaseId)"},
	{Name: "fromDate", Description: "YYYY-MM-DD, inclusive (UTC), on the creation date"},
	{Name: "toDate", Description: "YYYY-MM-DD, inclusive (UTC), on the creation date"},
}

var _ = document(
	op{Route: "GET /v1/invoices", Summary: "List the key's mode's invoices, newest first: one for every succeeded payment (open while a payment is processing, void if it then fails), numbered per merchant and mode without gaps, each with its lines", Tag: "invoices",
		List: true, Out: domain.Invoice{}, Query: append([]param{{Name: "status", Description: "draft, open, paid, void or uncollectible"}}, invoiceFilters...)},
	op{Route: "GET /v1/invoices/{ref}", Summary: "Get an invoice with its lines, the seller's and the buyer's details as issued, and its hosted page", Tag: "invoices", Out: domain.Invoice{}},
	op{Route: "POST /v1/invoices/{ref}/void", Summary: "Void an invoice nothing was paid against, its number kept (invoice.voided). A paid invoice is refused with 409 (refund the payment to issue a credit note), a void one too, and so is an open one: an invoice is open while its payment is processing, and the processor's answer decides it — paid when the payment succeeds, void by itself when it fails", Tag: "invoices", Out: domain.Invoice{}},
	op{Route: "GET /v1/credit-notes", Summary: "List the key's mode's credit notes, newest first: one for every succeeded refund, linked to its payment's invoice", Tag: "invoices",
		List: true, Out: domain.CreditNote{}, Query: invoiceFilters},
	op{Route: "GET /v1/credit-notes/{ref}", Summary: "Get a credit note", Tag: "invoices", Out: domain.CreditNote{}},
	op{Route: "GET /v1/invoices/{ref}/pdf", Summary: "The invoice as a PDF (A4 or Letter by the merchant's setting), rendered in-process: the same invoice gives the same bytes", Tag: "invoices", Produces: "application/pdf"},
	op{Route: "GET /v1/credit-notes/{ref}/pdf", Summary: "The credit note as a PDF", Tag: "invoices", Produces: "application/pdf"},

	op{Route: "GET /v1/tax-rates", Summary: "List the key's mode's tax rates, newest first; ?active=true|false narrows", Tag: "invoices",
		List: true, Out: domain.TaxRate{}, Query: []param{{Name: "active", Description: "true: rates that apply; false: archived rates"}}},
	op{Route: "POST /v1/tax-rates", Summary: "Create the tax rate of one country: name, percentage (exact decimal string or number, 0 to 100, at most two decimals, e.g. \"19\" or \"7.25\"; answered also as basisPoints), country (ISO 3166-1 alpha-2), inclusive (the price holds the tax) or not (the tax is added to what is charged). One active rate per country; the customer's registered country picks it", Tag: "invoices",
		Body: taxRateInput{}, Required: []string{"name", "percentage", "country"}, Out: domain.TaxRate{}, Status: 201},
	op{Route: "GET /v1/tax-rates/{ref}", Summary: "Get a tax rate", Tag: "invoices", Out: domain.TaxRate{}},
	op{Route: "POST /v1/tax-rates/{ref}/archive", Summary: "Archive a tax rate: new charges no longer use it, invoices issued with it keep it. Rates are never edited; archive and create another", Tag: "invoices", Out: domain.TaxRate{}},

	op{Route: "GET /v1/settings/invoices", Summary: "The invoice settings: number prefix and pattern, paper size, the seller's address, country, tax ID and whether a logo is stored", Tag: "settings", Out: store.InvoiceSettings{}},
	op{Route: "PATCH /v1/settings/invoices", Summary: "Change only the fields supplied: prefix (1-20 letters, digits, - or _), pattern (exactly one counter such as <000001>; <PREFIX> and <YYYY> are replaced), paperSize A4 or Letter, address (newline-separated lines), country (ISO 3166-1 alpha-2), taxId, logo (base64 PNG or JPEG, at most 256 KiB, stored: nothing is fetched when rendering) or removeLogo. Documents issued before keep their details", Tag: "settings",
		Body: invoiceSettingsPatch{}, Out: store.InvoiceSettings{}},
)
