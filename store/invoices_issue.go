package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
)

// Documents are issued inside the Postgres transaction that records money (transactionEvent,
// AdoptTransaction): a payment gets its invoice, a refund its credit note. invoices.transaction_id
// is unique, so each charge has exactly one invoice however often an activity or a webhook is
// retried; a charge declined at once never reaches this code, so it takes no number.
//
//	insert the draft (no number) ─ unique on the transaction: a second issue stops here
//	  → take the next number of the merchant+mode sequence (row lock until commit)
//	  → finalise: number, issue date, and
//	      paid   the payment succeeded          → invoice.created, invoice.paid
//	      open   the processor accepted it but  → invoice.created; when the payment settles
//	             has not settled it (processing)   (SettleTransaction) the same invoice, its
//	                                               number kept, becomes paid → invoice.paid,
//	                                               or void → invoice.voided
//
// The number is taken last and in the same transaction: if anything fails the whole transaction
// rolls back, the money is not recorded, and the number is given back — gapless, never reused.
// A void invoice keeps its number, so the sequence stays gapless.

// issueDocument issues, settles or voids the document of a payment or refund as it is now.
func issueDocument(ctx context.Context, db DBTX, t domain.Transaction, mode string) error {
	switch {
	case t.Kind == domain.TxnRefund && t.Status == domain.TxnSucceeded:
		return issueCreditNote(ctx, db, t, mode)
	case t.Kind == domain.TxnRefund:
		return nil
	case t.Status == domain.TxnSucceeded || t.Status == domain.TxnPending:
		_, err := issueInvoice(ctx, db, t, mode)
		return err
	case t.Status == domain.TxnFailed: // a processing payment that failed: its open invoice is void
		var ref string
		err := db.QueryRow(ctx, `SELECT id FROM invoices WHERE transaction_id = $1 AND status = 'open'`, t.Ref).Scan(&ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("invoice of %s: %w", t.Ref, err)
		}
		return voidInvoice(ctx, db, t.MerchantRef, mode, ref)
	}
	return nil
}

// issueInvoice issues the invoice of payment t — paid, or open while t is pending — or answers
// the one issued before, paid now if t has succeeded since.
func issueInvoice(ctx context.Context, db DBTX, t domain.Transaction, mode string) (string, error) {
	var existing, status string
	err := db.QueryRow(ctx, `SELECT id, status FROM invoices WHERE transaction_id = $1 FOR UPDATE`, t.Ref).Scan(&existing, &status)
	if err == nil {
		if status == domain.InvoiceOpen && t.Status == domain.TxnSucceeded {
			return existing, payInvoice(ctx, db, t.MerchantRef, mode, existing)
		}
		return existing, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("invoice of %s: %w", t.Ref, err)
	}
	set, seller, err := sellerOf(ctx, db, t.MerchantRef)
	if err != nil {
		return "", err
	}
	buyer, err := buyerOf(ctx, db, t.CustomerRef)
	if err != nil {
		return "", err
	}
	tax, err := chargeTax(ctx, db, t)
	if err != nil {
		return "", err
	}
	line, err := chargeLine(ctx, db, t, tax)
	if err != nil {
		return "", err
	}
	sellerJSON, _ := json.Marshal(seller)
	buyerJSON, _ := json.Marshal(buyer)
	ref := domain.NewRef(domain.PrefixInvoice)
	issued := issueDate(t)
	tag, err := db.Exec(ctx, `INSERT INTO invoices (id, merchant_id, mode, status, transaction_id, purchase_id, customer_id,
		currency, subtotal, tax, total, tax_note, seller, buyer, paper_size, token)
		VALUES ($1,$2,$3,'draft',$4,nullif($5,''),nullif($6,''),$7,$8,$9,$10,$11,$12,$13,$14,$15)
		ON CONFLICT (transaction_id) DO NOTHING`,
		ref, t.MerchantRef, mode, t.Ref, t.PurchaseRef, t.CustomerRef, t.Currency, t.Amount-tax.Amount, tax.Amount,
		t.Amount, tax.Note, sellerJSON, buyerJSON, set.PaperSize, domain.RandomString(40))
	if err != nil {
		return "", fmt.Errorf("invoice of %s: %w", t.Ref, err)
	}
	if tag.RowsAffected() == 0 { // issued by a concurrent writer of the same transaction
		return existing, db.QueryRow(ctx, `SELECT id FROM invoices WHERE transaction_id = $1`, t.Ref).Scan(&existing)
	}
	if _, err := db.Exec(ctx, `INSERT INTO invoice_lines (invoice_id, position, description, period, period_start,
		period_end, quantity, unit_amount, amount, tax_rate_bp, tax_name, tax_inclusive, tax)
		VALUES ($1,1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		ref, line.Description, line.Period, line.PeriodStart, line.PeriodEnd, line.Quantity, line.UnitAmount, line.Amount,
		line.TaxRateBP, line.TaxName, line.TaxIncluded, line.Tax); err != nil {
		return "", fmt.Errorf("lines of %s: %w", ref, err)
	}
	n, err := nextNumber(ctx, db, t.MerchantRef, mode, "invoice")
	if err != nil {
		return "", err
	}
	number := domain.InvoiceNumber(set.Pattern, set.Prefix, issued, n)
	status, paidAt := domain.InvoicePaid, &issued
	if t.Status == domain.TxnPending {
		status, paidAt = domain.InvoiceOpen, nil
	}
	if _, err := db.Exec(ctx, `UPDATE invoices SET status = $2, number = $3, seq = $4, issued_at = $5, paid_at = $6
		WHERE id = $1`, ref, status, number, n, issued, paidAt); err != nil {
		return "", fmt.Errorf("finalise %s as %s: %w", ref, number, err)
	}
	inv, err := getInvoice(ctx, db, t.MerchantRef, mode, ref)
	if err != nil {
		return "", err
	}
	if err := invoiceEvent(ctx, db, domain.EventInvoiceCreated, inv); err != nil {
		return "", err
	}
	if status == domain.InvoicePaid {
		return ref, invoiceEvent(ctx, db, domain.EventInvoicePaid, inv)
	}
	return ref, nil
}

// invoiceEvent writes an event about invoice inv, once per type.
func invoiceEvent(ctx context.Context, db DBTX, typ string, inv domain.Invoice) error {
	return insertEvent(ctx, db, newEvent{merchant: inv.MerchantRef, mode: inv.Mode, typ: typ, objectType: "invoice",
		objectRef: inv.Ref, object: inv, dedupe: typ + "/" + inv.Ref})
}

// settledAt is when an open invoice settles: now on its purchase's clock (a sandbox test clock
// runs ahead of real time), never before its issue date.
const settledAt = `greatest(issued_at, now() + make_interval(secs => coalesce((SELECT p.clock_offset_ms FROM purchases p
	WHERE p.id = invoices.purchase_id), 0) / 1000.0))`

// payInvoice marks the open invoice ref paid: its payment has settled succeeded.
func payInvoice(ctx context.Context, db DBTX, merchant, mode, ref string) error {
	return settleInvoice(ctx, db, merchant, mode, ref, `status = 'paid', paid_at = `+settledAt, domain.EventInvoicePaid)
}

// voidInvoice marks invoice ref void, its number kept (the sequence stays gapless).
func voidInvoice(ctx context.Context, db DBTX, merchant, mode, ref string) error {
	return settleInvoice(ctx, db, merchant, mode, ref, `status = 'void', voided_at = `+settledAt, domain.EventInvoiceVoided)
}

func settleInvoice(ctx context.Context, db DBTX, merchant, mode, ref, set, typ string) error {
	if _, err := db.Exec(ctx, `UPDATE invoices SET `+set+` WHERE id = $1`, ref); err != nil {
		return fmt.Errorf("%s %s: %w", typ, ref, err)
	}
	inv, err := getInvoice(ctx, db, merchant, mode, ref)
	if err != nil {
		return err
	}
	return invoiceEvent(ctx, db, typ, inv)
}

// nextNumber takes the next number of a merchant's sequence in mode: the row stays locked until
// the calling transaction ends, so concurrent issuers queue and each gets the next number.
func nextNumber(ctx context.Context, db DBTX, merchant, mode, kind string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `INSERT INTO invoice_sequences (merchant_id, mode, kind, next) VALUES ($1,$2,$3,2)
		ON CONFLICT (merchant_id, mode, kind) DO UPDATE SET next = invoice_sequences.next + 1
		RETURNING next - 1`, merchant, mode, kind).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next %s number of %s: %w", kind, merchant, err)
	}
	return n, nil
}

// chargeLine is the invoice line of a payment: what its purchase was charged for, over the
// period the payment paid: the span its charge named, or else the purchase's projection's
// current period when that is the payment's (a payment settled or adopted later).
func chargeLine(ctx context.Context, db DBTX, t domain.Transaction, tax TaxApplied) (domain.InvoiceLine, error) {
	net := t.Amount - tax.Amount
	l := domain.InvoiceLine{Description: cmpOr(t.Reason, "Payment"), Period: t.Period, Quantity: 1, UnitAmount: net,
		Amount: net, TaxRateBP: tax.RateBP, TaxName: tax.Name, TaxIncluded: tax.Inclusive, Tax: tax.Amount}
	if t.PeriodStart != nil {
		l.PeriodStart, l.PeriodEnd = t.PeriodStart, t.PeriodEnd
		return l, nil
	}
	if t.PurchaseRef == "" {
		return l, nil
	}
	var period int
	var start, end *time.Time
	err := db.QueryRow(ctx, `SELECT period, current_period_start, current_period_end FROM purchases WHERE id = $1`,
		t.PurchaseRef).Scan(&period, &start, &end)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("period of %s: %w", t.PurchaseRef, err)
	}
	if err == nil && period == t.Period && t.Period > 0 {
		l.PeriodStart, l.PeriodEnd = start, end
	}
	return l, nil
}

// issueDate is when the money moved on the purchase's clock (a sandbox test clock runs ahead).
func issueDate(t domain.Transaction) time.Time {
	if t.OccurredAt.IsZero() {
		return time.Now().UTC()
	}
	return t.OccurredAt.UTC()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// issueCreditNote issues the credit note of refund t against its payment's invoice (issuing
// that invoice first if the payment predates invoices). Its tax is the invoice's tax in the
// proportion refunded, rounded half up; the note that refunds the rest of the invoice takes the
// rest of its tax, so the credit notes of a fully refunded invoice give back exactly its tax.
func issueCreditNote(ctx context.Context, db DBTX, t domain.Transaction, mode string) error {
	if t.SourceRef == "" {
		return nil
	}
	payment, err := scanTxn(db.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.id = $1`, t.SourceRef))
	if err != nil {
		return fmt.Errorf("payment of refund %s: %w", t.Ref, err)
	}
	invoice, err := issueInvoice(ctx, db, payment, mode)
	if err != nil {
		return err
	}
	var invTax, invTotal int64
	if err := db.QueryRow(ctx, `SELECT tax, total FROM invoices WHERE id = $1`, invoice).Scan(&invTax, &invTotal); err != nil {
		return fmt.Errorf("invoice %s: %w", invoice, err)
	}
	var done bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM credit_notes WHERE transaction_id = $1)`, t.Ref).Scan(&done); err != nil || done {
		return err
	}
	var creditedTax, credited int64
	if err := db.QueryRow(ctx, `SELECT coalesce(sum(tax), 0), coalesce(sum(total), 0) FROM credit_notes WHERE invoice_id = $1`,
		invoice).Scan(&creditedTax, &credited); err != nil {
		return fmt.Errorf("credit notes of %s: %w", invoice, err)
	}
	tax := money.Share(t.Amount, invTax, invTotal)
	if credited+t.Amount == invTotal {
		tax = invTax - creditedTax
	}
	tax = max(0, min(tax, invTax-creditedTax, t.Amount))
	set, _, err := sellerOf(ctx, db, t.MerchantRef)
	if err != nil {
		return err
	}
	n, err := nextNumber(ctx, db, t.MerchantRef, mode, "credit_note")
	if err != nil {
		return err
	}
	issued := issueDate(t)
	ref := domain.NewRef(domain.PrefixCreditNote)
	tag, err := db.Exec(ctx, `INSERT INTO credit_notes (id, merchant_id, mode, number, seq, invoice_id, transaction_id,
		purchase_id, customer_id, currency, subtotal, tax, total, reason, token, issued_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,nullif($8,''),nullif($9,''),$10,$11,$12,$13,$14,$15,$16)
		ON CONFLICT (transaction_id) DO NOTHING`,
		ref, t.MerchantRef, mode, domain.InvoiceNumber(set.Pattern, set.Prefix+"-CN", issued, n), n, invoice, t.Ref,
		t.PurchaseRef, t.CustomerRef, t.Currency, t.Amount-tax, tax, t.Amount, t.Reason, domain.RandomString(40), issued)
	if err != nil {
		return fmt.Errorf("credit note of %s: %w", t.Ref, err)
	}
	if tag.RowsAffected() == 0 { // a concurrent issuer won: fail, so the number taken above is given back
		return fmt.Errorf("credit note of %s: issued concurrently", t.Ref)
	}
	cn, err := getCreditNote(ctx, db, t.MerchantRef, mode, ref)
	if err != nil {
		return err
	}
	return insertEvent(ctx, db, newEvent{merchant: t.MerchantRef, mode: mode, typ: domain.EventCreditNoteCreated,
		objectType: "credit_note", objectRef: ref, object: cn, dedupe: domain.EventCreditNoteCreated + "/" + ref})
}

// invoiceSettings is a merchant's invoice settings, defaults when it has none.
type invoiceSettings struct {
	Prefix, Pattern, PaperSize string
}

// sellerOf reads the merchant's invoice settings and the seller as documents name it.
func sellerOf(ctx context.Context, db DBTX, merchant string) (invoiceSettings, domain.Party, error) {
	set := invoiceSettings{Prefix: "INV", Pattern: "<PREFIX>-<YYYY>-<000001>", PaperSize: "A4"}
	var p domain.Party
	var name, address, taxID string
	err := db.QueryRow(ctx, `SELECT m.name, m.legal_name, m.support_contact, coalesce(s.prefix, 'INV'),
		coalesce(s.pattern, '<PREFIX>-<YYYY>-<000001>'), coalesce(s.paper_size, 'A4'), coalesce(s.address, ''),
		coalesce(s.country, ''), coalesce(s.tax_id, ''), s.logo IS NOT NULL
		FROM merchants m LEFT JOIN invoice_settings s ON s.merchant_id = m.id WHERE m.id = $1`, merchant).
		Scan(&name, &p.Name, &p.SupportContact, &set.Prefix, &set.Pattern, &set.PaperSize, &address, &p.Country, &taxID, &p.HasLogo)
	if err != nil {
		return set, p, fmt.Errorf("seller %s: %w", merchant, err)
	}
	p.Name = cmpOr(p.Name, name)
	p.AddressLines = nonEmptyLines(address)
	if taxID != "" {
		p.TaxIDs = []domain.TaxID{{ID: taxID}}
	}
	return set, p, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// organization is seed 002's organization block of a customer.
type organization struct {
	LegalName string         `json:"legal_name"`
	TaxID     string         `json:"tax_id"`
	TaxIDs    []domain.TaxID `json:"tax_ids"`
	Address   struct {
		Line1      string `json:"line1"`
		Line2      string `json:"line2"`
		City       string `json:"city"`
		PostalCode string `json:"postal_code"`
		State      string `json:"state"`
		Country    string `json:"country"`
	} `json:"registered_address"`
}

// buyerOf reads the customer as documents name it: the organization's legal name, registered
// address and tax ids when it has them, else its name; its email.
func buyerOf(ctx context.Context, db DBTX, customer string) (domain.Party, error) {
	var p domain.Party
	if customer == "" {
		return p, nil
	}
	var name string
	var org []byte
	err := db.QueryRow(ctx, `SELECT name, email, organization FROM customers WHERE id = $1`, customer).Scan(&name, &p.Email, &org)
	if err != nil {
		return p, fmt.Errorf("buyer %s: %w", customer, err)
	}
	var o organization
	if len(org) > 0 {
		_ = json.Unmarshal(org, &o) // an organization block that is not seed 002's names no one
	}
	p.Name = cmpOr(cmpOr(o.LegalName, name), p.Email)
	a := o.Address
	city := strings.TrimSpace(strings.Join([]string{a.PostalCode, a.City}, " "))
	for _, l := range []string{a.Line1, a.Line2, city, a.State, a.Country} {
		if l = strings.TrimSpace(l); l != "" {
			p.AddressLines = append(p.AddressLines, l)
		}
	}
	p.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	p.TaxIDs = o.TaxIDs
	if len(p.TaxIDs) == 0 && o.TaxID != "" {
		p.TaxIDs = []domain.TaxID{{ID: o.TaxID}}
	}
	return p, nil
}
