package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type transactionView struct {
	Reference      string    `json:"reference"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	PurchaseRef    string    `json:"purchaseRef"`
	CustomerRef    string    `json:"customerRef"`
	ProductRef     string    `json:"productRef"`
	SourceRef      string    `json:"sourceTransactionRef"`
	Reason         string    `json:"reason"`
	FailureCode    string    `json:"failureCode"`
	FailureMessage string    `json:"failureMessage"`
	RefundedAmount int64     `json:"refundedAmount"`
	CreatedAt      time.Time `json:"createdAt"`
}

func (t transactionView) oneLine() string {
	s := fmt.Sprintf("%s %s %s of %s on %s", t.Reference, t.Status, t.Type, money(t.Amount, t.Currency), day(&t.CreatedAt))
	if t.SourceRef != "" {
		s += " (refund of " + t.SourceRef + ")"
	}
	if t.RefundedAmount > 0 {
		s += fmt.Sprintf(", %s refunded", money(t.RefundedAmount, t.Currency))
	}
	if t.FailureCode != "" {
		s += " — " + t.FailureCode
	}
	if t.Reason != "" {
		s += " — " + t.Reason
	}
	return s
}

var dateParams = []param{
	{name: "fromDate", typ: tString, desc: "First day included, YYYY-MM-DD (UTC), e.g. 2026-01-11.", extra: map[string]any{"format": "date"}},
	{name: "toDate", typ: tString, desc: "Last day included, YYYY-MM-DD (UTC), e.g. 2026-02-11.", extra: map[string]any{"format": "date"}},
}

func moneyTools() []tool {
	filters := func() []param {
		return append(append([]param{}, dateParams...), customerRef(false), productRef(false), purchaseRef(false))
	}
	return []tool{
		{name: "list_transactions", title: "List transactions",
			desc: "List payments and refunds (txn_…), newest first, by date range, status, type, customer, product or purchase. " +
				"Amounts are in minor units.",
			params: withPaging(append(filters(),
				param{name: "status", typ: tString, enum: []string{"succeeded", "failed", "pending"}, desc: "Only transactions in this status."},
				param{name: "type", typ: tString, enum: []string{"payment", "refund"}, desc: "Only payments or only refunds."})...),
			readOnly: true, run: listTransactions},
		{name: "get_transaction", title: "Get a transaction",
			desc: "Get one payment or refund.",
			params: []param{{name: "transactionRef", alias: "transactionId", typ: tString, required: true,
				desc: "The transaction's reference (txn_…)."}},
			readOnly: true, run: getTransaction},
		{name: "get_transaction_stats", title: "Transaction statistics",
			desc: "Totals for a date range: number of transactions, successful, failed and refunded ones, and revenue " +
				"(succeeded payments, in minor units of the merchant's currency).",
			params: filters(), readOnly: true, run: transactionStats},
		{name: "get_product_balance", title: "Revenue of a product",
			desc:   "How much a product has earned: revenue from succeeded payments, refunds and the net, in minor units.",
			params: []param{productRef(true)}, readOnly: true, run: productBalance},
		{name: "create_refund", title: "Refund a payment",
			desc: "Refund a payment transaction, fully (omit amount) or partly (amount in minor units: 2500 = $25.00), never more " +
				"than is left unrefunded, for 180 days after the payment (also after the purchase ended; later: REFUND_WINDOW_CLOSED). " +
				"Answers the refund's own transaction reference (txn_…). A full refund of the current period may end the customer's access.",
			params: []param{
				{name: "sourceTransactionRef", alias: "sourceTransactionId", typ: tString, required: true,
					desc: "The payment to refund (txn_…)."},
				{name: "amount", typ: tInteger, desc: "Amount to refund in minor units (2500 = $25.00); omit for a full refund.",
					extra: map[string]any{"minimum": 1}},
				{name: "reason", typ: tString, desc: "Why, e.g. \"Double charge\"."},
				{name: "idempotencyKey", typ: tString, desc: "A key unique to this refund request: retrying with the same key " +
					"never refunds twice."}},
			destructive: true, run: createRefund},
	}
}

func listTransactions(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []transactionView `json:"data"`
	}
	out, err := c.get(ctx, path("transactions"), a.query("fromDate", "toDate", "customerRef", "productRef", "purchaseRef",
		"status", "type", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, t := range list.Data {
		lines[i] = t.oneLine()
	}
	return listText("transactions", list.Total, list.Page, list.Limit, lines), out, nil
}

func getTransaction(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("transactionRef")
	if err != nil {
		return "", nil, err
	}
	var t transactionView
	out, err := c.get(ctx, path("transactions", ref), nil, &t)
	if err != nil {
		return "", nil, err
	}
	return "Transaction: " + t.oneLine(), out, nil
}

func transactionStats(ctx context.Context, c *call, a args) (string, any, error) {
	var st struct {
		Total, Successful, Failed, Refunded int
		Revenue, RefundedAmount, NetRevenue int64
		Currency                            string
	}
	out, err := c.get(ctx, path("transactions", "stats"), a.query("fromDate", "toDate", "customerRef", "productRef", "purchaseRef"), &st)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	from, to := a.str("fromDate"), a.str("toDate")
	switch {
	case from != "" && to != "":
		fmt.Fprintf(&b, "Transaction statistics from %s to %s:\n\n", from, to)
	case from != "":
		fmt.Fprintf(&b, "Transaction statistics since %s:\n\n", from)
	case to != "":
		fmt.Fprintf(&b, "Transaction statistics up to %s:\n\n", to)
	default:
		b.WriteString("Transaction statistics (all time):\n\n")
	}
	b.WriteString("| Metric | Value |\n|---|---|\n")
	fmt.Fprintf(&b, "| Total transactions | %d |\n| Successful | %d |\n| Failed | %d |\n| Refunded | %d |\n| Total revenue | %s |",
		st.Total, st.Successful, st.Failed, st.Refunded, money(st.Revenue, st.Currency))
	if st.RefundedAmount > 0 {
		fmt.Fprintf(&b, "\n| Refunded amount | %s |\n| Net revenue | %s |", money(st.RefundedAmount, st.Currency), money(st.NetRevenue, st.Currency))
	}
	return b.String(), out, nil
}

func productBalance(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	var bal struct {
		Revenue, Refunded, Net int64
		Currency               string
	}
	out, err := c.get(ctx, path("products", ref, "balance"), nil, &bal)
	if err != nil {
		return "", nil, err
	}
	name := a.str("productRef")
	var p productView
	if _, err := c.get(ctx, path("products", ref), nil, &p); err == nil && p.Name != "" {
		name = p.Name
	}
	text := fmt.Sprintf("The %s product has generated %s in revenue.", name, money(bal.Revenue, bal.Currency))
	if bal.Refunded > 0 {
		text += fmt.Sprintf(" %s has been refunded, so the net is %s.", money(bal.Refunded, bal.Currency), money(bal.Net, bal.Currency))
	}
	return text, out, nil
}

func createRefund(ctx context.Context, c *call, a args) (string, any, error) {
	source := a.str("sourceTransactionRef")
	// Without a key the API keys the refund by the request itself: the same request refunds once.
	c.idempotencyKey = a.str("idempotencyKey")
	out, err := c.post(ctx, path("refunds"), a.body("sourceTransactionRef", "amount", "reason"), nil)
	if err != nil {
		return "", nil, err
	}
	refund := transactionIn(out, "refund")
	kind := "A partial refund"
	if full, _ := out["full"].(bool); full {
		kind = "A full refund"
	}
	text := fmt.Sprintf("%s of %s has been processed for transaction %s. The refund reference is %s.",
		kind, money(refund.Amount, refund.Currency), source, refund.Reference)
	if refund.Status != "" && refund.Status != "succeeded" {
		text += fmt.Sprintf(" Its status is %s.", refund.Status)
	}
	return text, out, nil
}

// transactionIn reads a transaction out of an answer: the transaction itself, or an object
// holding it under key.
func transactionIn(out map[string]any, key string) transactionView {
	var t transactionView
	raw, _ := json.Marshal(out)
	_ = json.Unmarshal(raw, &t)
	if t.Reference == "" {
		var wrapped map[string]json.RawMessage
		_ = json.Unmarshal(raw, &wrapped)
		_ = json.Unmarshal(wrapped[key], &t)
	}
	return t
}
