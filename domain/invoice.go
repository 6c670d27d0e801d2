package domain

import (
	"fmt"
	"strings"
	"time"
)

// Reference prefixes of the documents (DESIGN.md "Data").
const (
	PrefixInvoice    = "in"
	PrefixCreditNote = "cn"
	PrefixTaxRate    = "txr"
)

// Invoice statuses: draft (no number yet) → open (numbered, unpaid) → paid | void | uncollectible.
// Tollgate issues an invoice paid when its charge succeeds, or open when the processor accepted
// the charge but has not settled it (processing): paid when it settles, void if it fails.
const (
	InvoiceDraft         = "draft"
	InvoiceOpen          = "open"
	InvoicePaid          = "paid"
	InvoiceVoid          = "void"
	InvoiceUncollectible = "uncollectible"
)

// Invoice is the numbered document of one charge: who sold, who bought, what, and for how much.
// Seller and Buyer are copies made when it was issued, so the document never changes after.
type Invoice struct {
	Ref            string        `json:"reference"` // in_
	MerchantRef    string        `json:"-"`
	Mode           string        `json:"mode"`
	Number         string        `json:"number,omitempty"` // empty while a draft
	Status         string        `json:"status"`
	TransactionRef string        `json:"transactionRef"`
	PurchaseRef    string        `json:"purchaseRef,omitempty"`
	CustomerRef    string        `json:"customerRef,omitempty"`
	Currency       string        `json:"currency"`
	Subtotal       int64         `json:"subtotal"`
	Tax            int64         `json:"tax"`
	Total          int64         `json:"total"`
	TaxNote        string        `json:"taxNote,omitempty"` // e.g. the reverse-charge note
	Lines          []InvoiceLine `json:"lines"`
	Seller         Party         `json:"seller"`
	Buyer          Party         `json:"buyer"`
	PaperSize      string        `json:"paperSize"`
	HostedToken    string        `json:"-"`
	HostedURL      string        `json:"hostedUrl,omitempty"`
	CreditNotes    []string      `json:"creditNotes,omitempty"` // cn_ refs
	// CreditNoteNumbers are the numbers of CreditNotes, in the same order: what a document prints
	CreditNoteNumbers []string   `json:"creditNoteNumbers,omitempty"`
	IssuedAt          *time.Time `json:"issuedAt,omitempty"`
	PaidAt            *time.Time `json:"paidAt,omitempty"`
	VoidedAt          *time.Time `json:"voidedAt,omitempty"`
	CreatedAt         time.Time  `json:"createdAt"`
}

// InvoiceLine is one line: quantity × unit price = amount (before tax), and its tax.
type InvoiceLine struct {
	Description string     `json:"description"`
	Period      int        `json:"period,omitempty"`
	PeriodStart *time.Time `json:"periodStart,omitempty"`
	PeriodEnd   *time.Time `json:"periodEnd,omitempty"`
	Quantity    int64      `json:"quantity"`
	UnitAmount  int64      `json:"unitAmount"`
	Amount      int64      `json:"amount"`
	TaxRateBP   int        `json:"taxRateBasisPoints,omitempty"`
	TaxName     string     `json:"taxName,omitempty"`     // the rate's name, e.g. VAT
	TaxIncluded bool       `json:"taxIncluded,omitempty"` // an inclusive rate: the price held the tax
	Tax         int64      `json:"tax"`
}

// CreditNote is the numbered document of one refund, linked to the invoice of its payment.
type CreditNote struct {
	Ref            string    `json:"reference"` // cn_
	MerchantRef    string    `json:"-"`
	Mode           string    `json:"mode"`
	Number         string    `json:"number"`
	InvoiceRef     string    `json:"invoiceRef"`
	InvoiceNumber  string    `json:"invoiceNumber"`
	TransactionRef string    `json:"transactionRef"`
	PurchaseRef    string    `json:"purchaseRef,omitempty"`
	CustomerRef    string    `json:"customerRef,omitempty"`
	Currency       string    `json:"currency"`
	Subtotal       int64     `json:"subtotal"`
	Tax            int64     `json:"tax"`
	Total          int64     `json:"total"`
	Reason         string    `json:"reason,omitempty"`
	HostedToken    string    `json:"-"`
	HostedURL      string    `json:"hostedUrl,omitempty"` // its page for the customer, /credit-note/<token>
	IssuedAt       time.Time `json:"issuedAt"`
	CreatedAt      time.Time `json:"createdAt"`
}

// Party is a seller or a buyer as the document names them.
type Party struct {
	Name           string   `json:"name"`
	Email          string   `json:"email,omitempty"`
	AddressLines   []string `json:"addressLines,omitempty"`
	Country        string   `json:"country,omitempty"` // ISO 3166-1 alpha-2
	TaxIDs         []TaxID  `json:"taxIds,omitempty"`
	SupportContact string   `json:"supportContact,omitempty"`
	HasLogo        bool     `json:"hasLogo,omitempty"`
}

// TaxID is one tax identifier, typed as in seed 002 (GENERIC_TAX_ID, EU_VAT, …).
type TaxID struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id"`
}

// InvoiceNumber writes the n-th number of a sequence by a merchant's pattern: <PREFIX> is the
// prefix, <YYYY> the issue year, and a run of zeros ending in 1 inside angle brackets
// (<000001>) is n padded to that width (wider numbers are written whole). Anything else is kept.
func InvoiceNumber(pattern, prefix string, issued time.Time, n int64) string {
	var b strings.Builder
	for len(pattern) > 0 {
		i := strings.IndexByte(pattern, '<')
		j := strings.IndexByte(pattern[max(i, 0):], '>')
		if i < 0 || j < 0 {
			b.WriteString(pattern)
			break
		}
		b.WriteString(pattern[:i])
		tok := pattern[i+1 : i+j]
		switch {
		case tok == "PREFIX":
			b.WriteString(prefix)
		case tok == "YYYY":
			fmt.Fprintf(&b, "%04d", issued.UTC().Year())
		case isCounterToken(tok):
			fmt.Fprintf(&b, "%0*d", len(tok), n)
		default:
			b.WriteString(pattern[i : i+j+1])
		}
		pattern = pattern[i+j+1:]
	}
	return b.String()
}

func isCounterToken(tok string) bool {
	return len(tok) > 0 && strings.Trim(tok[:len(tok)-1], "0") == "" && tok[len(tok)-1] == '1'
}

// ValidInvoicePattern refuses a pattern without exactly one counter: without it two documents
// would share a number.
func ValidInvoicePattern(pattern string) error {
	counters := 0
	for p := pattern; ; {
		i := strings.IndexByte(p, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(p[i:], '>')
		if j < 0 {
			break
		}
		if isCounterToken(p[i+1 : i+j]) {
			counters++
		}
		p = p[i+j+1:]
	}
	if counters != 1 || len(pattern) > 64 {
		return Errorf(CodeInvalidField, "pattern", "an invoice number pattern has exactly one counter such as <000001> and at most 64 characters; got %q", pattern)
	}
	return nil
}
