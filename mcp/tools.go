package mcp

import (
	"context"
	"fmt"
	"strings"
)

// allTools is every tool of DESIGN.md's list, in the order a merchant meets them.
func allTools() []tool {
	var out []tool
	for _, group := range [][]tool{customerTools(), productTools(), planTools(), purchaseTools(), planChangeTools(), usageTools(),
		sessionTools(), moneyTools(), eventTools(), invoiceTools(), taxTools()} {
		out = append(out, group...)
	}
	return out
}

// Parameters shared by many tools. The aliases are seed 001's spellings.
func customerRef(required bool) param {
	return param{name: "customerRef", alias: "customerId", typ: tString, required: required,
		desc: "The customer's reference (cus_…), or the merchant's own externalRef for that customer."}
}

func productRef(required bool) param {
	return param{name: "productRef", alias: "productReference", typ: tString, required: required,
		desc: "The product's reference (prd_…)."}
}

func planRef(required bool, desc string) param {
	if desc == "" {
		desc = "The plan's reference (pln_…)."
	}
	return param{name: "planRef", typ: tString, required: required, desc: desc}
}

func purchaseRef(required bool) param {
	return param{name: "purchaseRef", alias: "purchaseId", typ: tString, required: required,
		desc: "The purchase's reference (pur_…)."}
}

var pageParams = []param{
	{name: "page", typ: tInteger, desc: "Page number, from 1 (default 1)."},
	{name: "limit", typ: tInteger, desc: "Items per page, 1 to 100 (default 10)."},
}

func withPaging(ps ...param) []param { return append(ps, pageParams...) }

// paramNames are the main names of params: the body fields of a tool that sends them all.
func paramNames(params []param) []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i] = p.name
	}
	return out
}

var metadataParam = param{name: "metadata", typ: tObject, extra: map[string]any{"additionalProperties": map[string]any{"type": "string"}},
	desc: "Key-value strings to keep with the object (at most 50 keys)."}

// listText summarises one page of a list: "3 customers (page 1 of 1):" then one line each.
func listText(noun string, total, page, limit int, lines []string) string {
	if total == 0 {
		return fmt.Sprintf("No %s found.", noun)
	}
	pages := (total + limit - 1) / max(limit, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", total, noun)
	if pages > 1 {
		fmt.Fprintf(&b, " (page %d of %d)", page, pages)
	}
	b.WriteString(":\n")
	for _, l := range lines {
		b.WriteString("- " + l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// listPage is the paging part of the API's list shape.
type listPage struct {
	Page  int `json:"page"`
	Limit int `json:"limit"`
	Total int `json:"total"`
}

// customerName is a customer's name for a sentence, "the customer" when unknown. It costs one
// read; a failure only makes the sentence plainer.
func customerName(ctx context.Context, c *call, ref string) string {
	var cu sdkCustomer
	if ref == "" {
		return "The customer"
	}
	if _, err := c.get(ctx, path("sdk", "customers", escape(ref)), nil, &cu); err != nil || cu.Name == "" {
		if cu.Email != "" {
			return cu.Email
		}
		return "The customer"
	}
	return cu.Name
}

// lowerFirst turns "The customer" into "the customer" mid-sentence; names stay as they are.
func lowerFirst(s string) string {
	if s == "The customer" {
		return "the customer"
	}
	return s
}
