package mcp

import (
	"context"
	"fmt"
	"strings"
	"time"
)

type invoiceView struct {
	Reference      string    `json:"reference"`
	Number         string    `json:"number"`
	Status         string    `json:"status"`
	Currency       string    `json:"currency"`
	Subtotal       int64     `json:"subtotal"`
	Tax            int64     `json:"tax"`
	Total          int64     `json:"total"`
	TransactionRef string    `json:"transactionRef"`
	CustomerRef    string    `json:"customerRef"`
	HostedURL      string    `json:"hostedUrl"`
	CreditNotes    []string  `json:"creditNotes"`
	CreditNoteNums []string  `json:"creditNoteNumbers"`
	IssuedAt       time.Time `json:"issuedAt"`
	Lines          []struct {
		Description string `json:"description"`
		Quantity    int64  `json:"quantity"`
		Amount      int64  `json:"amount"`
	} `json:"lines"`
	Buyer struct {
		Name string `json:"name"`
	} `json:"buyer"`
}

func (v invoiceView) oneLine() string {
	s := fmt.Sprintf("%s (%s) %s, %s, issued %s to %s for payment %s", v.Number, v.Reference, v.Status,
		money(v.Total, v.Currency), day(&v.IssuedAt), v.Buyer.Name, v.TransactionRef)
	for i, ref := range v.CreditNotes { // by number, as the documents name them, with the reference to look one up
		if i == 0 {
			s += ", credited by "
		} else {
			s += ", "
		}
		if i < len(v.CreditNoteNums) {
			s += v.CreditNoteNums[i] + " (" + ref + ")"
		} else {
			s += ref
		}
	}
	return s
}

func invoiceTools() []tool {
	return []tool{
		{name: "list_invoices", title: "List invoices",
			desc: "List invoices (in_…), newest first: every succeeded payment has one (open while a payment is processing, " +
				"void if it then fails), numbered without gaps. Filter by " +
				"customer, purchase, status or date range. Amounts are in minor units.",
			params: withPaging(append(append([]param{}, dateParams...), customerRef(false), purchaseRef(false),
				param{name: "status", typ: tString, enum: []string{"draft", "open", "paid", "void", "uncollectible"},
					desc: "Only invoices in this status."})...),
			readOnly: true, run: listInvoices},
		{name: "get_invoice", title: "Get an invoice",
			desc: "Get one invoice with its lines and totals, the link of its hosted page (which the customer can open " +
				"without a key and download as PDF) and its credit notes.",
			params: []param{{name: "invoiceRef", alias: "invoiceId", typ: tString, required: true,
				desc: "The invoice's reference (in_…)."}},
			readOnly: true, run: getInvoice},
		{name: "void_invoice", title: "Void an invoice",
			desc: "Void an invoice nothing was paid against; it keeps its number. A paid invoice cannot be voided (refund " +
				"its payment instead: that issues a credit note), and an open one is settled by the processor: paid when its " +
				"processing payment succeeds, void when it fails. Refusals say why.",
			params: []param{{name: "invoiceRef", alias: "invoiceId", typ: tString, required: true,
				desc: "The invoice's reference (in_…)."}},
			destructive: true, run: voidInvoice},
	}
}

func voidInvoice(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("invoiceRef")
	if err != nil {
		return "", nil, err
	}
	var v invoiceView
	out, err := c.post(ctx, path("invoices", ref, "void"), map[string]any{}, &v)
	if err != nil {
		return "", nil, err
	}
	return "Voided invoice " + v.oneLine() + ".", out, nil
}

func listInvoices(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []invoiceView `json:"data"`
	}
	out, err := c.get(ctx, path("invoices"), a.query("fromDate", "toDate", "customerRef", "purchaseRef", "status", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, v := range list.Data {
		lines[i] = v.oneLine()
	}
	return listText("invoices", list.Total, list.Page, list.Limit, lines), out, nil
}

func getInvoice(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("invoiceRef")
	if err != nil {
		return "", nil, err
	}
	var v invoiceView
	out, err := c.get(ctx, path("invoices", ref), nil, &v)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	b.WriteString("Invoice " + v.oneLine() + ".\n")
	for _, l := range v.Lines {
		fmt.Fprintf(&b, "- %s × %d: %s\n", l.Description, l.Quantity, money(l.Amount, v.Currency))
	}
	fmt.Fprintf(&b, "Subtotal %s, tax %s, total %s.", money(v.Subtotal, v.Currency), money(v.Tax, v.Currency), money(v.Total, v.Currency))
	if v.HostedURL != "" {
		b.WriteString("\nHosted page (PDF download): " + v.HostedURL)
	}
	return b.String(), out, nil
}
