package api

import "github.com/tollgate-billing/tollgate/domain"

// OpenAPI operations of invoices and credit notes (invoices.go).

var invoiceFilters = []param{
	{Name: "customerRef", Description: "cus_ reference (or customerId)"},
	{Name: "purchaseRef", Description: "pur_ reference (or purchaseId)"},
	{Name: "fromDate", Description: "YYYY-MM-DD, inclusive (UTC), on the creation date"},
	{Name: "toDate", Description: "YYYY-MM-DD, inclusive (UTC), on the creation date"},
}

var _ = document(
	op{Route: "GET /v1/invoices", Summary: "List the key's mode's invoices, newest first: one for every succeeded payment, numbered per merchant and mode without gaps (lines are in the single invoice)", Tag: "invoices",
		List: true, Out: domain.Invoice{}, Query: append([]param{{Name: "status", Description: "draft, open, paid, void or uncollectible"}}, invoiceFilters...)},
	op{Route: "GET /v1/invoices/{ref}", Summary: "Get an invoice with its lines, the seller's and the buyer's details as issued, and its hosted page", Tag: "invoices", Out: domain.Invoice{}},
	op{Route: "GET /v1/credit-notes", Summary: "List the key's mode's credit notes, newest first: one for every succeeded refund, linked to its payment's invoice", Tag: "invoices",
		List: true, Out: domain.CreditNote{}, Query: invoiceFilters},
	op{Route: "GET /v1/credit-notes/{ref}", Summary: "Get a credit note", Tag: "invoices", Out: domain.CreditNote{}},
)
