package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const invoiceCols = `i.id, i.merchant_id, i.mode, coalesce(i.number, ''), i.status, i.transaction_id,
	coalesce(i.purchase_id, ''), coalesce(i.customer_id, ''), i.currency, i.subtotal, i.tax, i.total, i.tax_note,
	i.seller, i.buyer, i.paper_size, i.token, i.issued_at, i.paid_at, i.voided_at, i.created_at,
	coalesce((SELECT array_agg(c.id ORDER BY c.seq) FROM credit_notes c WHERE c.invoice_id = i.id), '{}'),
	coalesce((SELECT array_agg(c.number ORDER BY c.seq) FROM credit_notes c WHERE c.invoice_id = i.id), '{}')`

func scanInvoice(row pgx.Row) (domain.Invoice, error) {
	var v domain.Invoice
	var seller, buyer []byte
	err := row.Scan(&v.Ref, &v.MerchantRef, &v.Mode, &v.Number, &v.Status, &v.TransactionRef, &v.PurchaseRef,
		&v.CustomerRef, &v.Currency, &v.Subtotal, &v.Tax, &v.Total, &v.TaxNote, &seller, &buyer, &v.PaperSize,
		&v.HostedToken, &v.IssuedAt, &v.PaidAt, &v.VoidedAt, &v.CreatedAt, &v.CreditNotes, &v.CreditNoteNumbers)
	if err == nil {
		err = unmarshalParties(seller, buyer, &v.Seller, &v.Buyer)
	}
	return v, err
}

func unmarshalParties(seller, buyer []byte, s, b *domain.Party) error {
	if err := json.Unmarshal(seller, s); err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	if err := json.Unmarshal(buyer, b); err != nil {
		return fmt.Errorf("buyer: %w", err)
	}
	return nil
}

// GetInvoice finds an invoice of merchant in mode, with its lines. Another merchant's invoice,
// or another mode's, is not found.
func (s *Store) GetInvoice(ctx context.Context, merchant, mode, ref string) (domain.Invoice, error) {
	return getInvoice(ctx, s.Pool, merchant, mode, ref)
}

func getInvoice(ctx context.Context, db DBTX, merchant, mode, ref string) (domain.Invoice, error) {
	v, err := scanInvoice(db.QueryRow(ctx, `SELECT `+invoiceCols+` FROM invoices i
		WHERE i.merchant_id = $1 AND i.mode = $2 AND i.id = $3`, merchant, mode, ref))
	if err != nil {
		return v, notFoundIfNoRows(err, "invoice", ref)
	}
	v.Lines, err = invoiceLines(ctx, db, v.Ref)
	return v, err
}

// InvoiceByToken finds the invoice of a hosted page's token, whichever merchant it belongs to.
func (s *Store) InvoiceByToken(ctx context.Context, token string) (domain.Invoice, error) {
	v, err := scanInvoice(s.Pool.QueryRow(ctx, `SELECT `+invoiceCols+` FROM invoices i WHERE i.token = $1
		AND i.status <> 'draft'`, token))
	if err != nil {
		return v, notFoundIfNoRows(err, "invoice", "")
	}
	v.Lines, err = invoiceLines(ctx, s.Pool, v.Ref)
	return v, err
}

func invoiceLines(ctx context.Context, db DBTX, ref string) ([]domain.InvoiceLine, error) {
	lines, err := linesOf(ctx, db, []string{ref})
	return lines[ref], err
}

// linesOf reads the lines of invoices in one query, by invoice.
func linesOf(ctx context.Context, db DBTX, refs []string) (map[string][]domain.InvoiceLine, error) {
	rows, err := db.Query(ctx, `SELECT invoice_id, description, period, period_start, period_end, quantity, unit_amount,
		amount, tax_rate_bp, tax_name, tax_inclusive, tax FROM invoice_lines WHERE invoice_id = ANY($1)
		ORDER BY invoice_id, position`, refs)
	if err != nil {
		return nil, fmt.Errorf("lines of %d invoices: %w", len(refs), err)
	}
	lines := map[string][]domain.InvoiceLine{}
	var ref string
	var l domain.InvoiceLine
	_, err = pgx.ForEachRow(rows, []any{&ref, &l.Description, &l.Period, &l.PeriodStart, &l.PeriodEnd, &l.Quantity,
		&l.UnitAmount, &l.Amount, &l.TaxRateBP, &l.TaxName, &l.TaxIncluded, &l.Tax}, func() error {
		lines[ref] = append(lines[ref], l)
		l = domain.InvoiceLine{} // the times are pointers: each line its own
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lines of %d invoices: %w", len(refs), err)
	}
	return lines, nil
}

// InvoiceFilter narrows ListInvoices and ListCreditNotes. Zero fields do not filter; From is
// inclusive and To exclusive (on the creation time).
type InvoiceFilter struct {
	Mode        string
	CustomerRef string
	PurchaseRef string
	Status      string // invoices only
	From, To    time.Time
}

func (f InvoiceFilter) where(merchant, alias string) *where {
	q := newWhere(alias+".merchant_id = $1", merchant)
	q.add(alias+".mode = $%d", f.Mode)
	if f.CustomerRef != "" {
		q.add(alias+".customer_id = $%d", f.CustomerRef)
	}
	if f.PurchaseRef != "" {
		q.add(alias+".purchase_id = $%d", f.PurchaseRef)
	}
	if f.Status != "" {
		q.add(alias+".status = $%d", f.Status)
	}
	if !f.From.IsZero() {
		q.add(alias+".created_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		q.add(alias+".created_at < $%d", f.To)
	}
	return q
}

// ListInvoices returns one page of the merchant's invoices in one mode, newest first, each with
// its lines (as Stripe's list does), and the total.
func (s *Store) ListInvoices(ctx context.Context, merchant string, f InvoiceFilter, p Page) ([]domain.Invoice, int, error) {
	invs, total, err := listPage(ctx, s.Pool, "invoices i", invoiceCols, f.where(merchant, "i"), "i.created_at DESC, i.id DESC", p, scanInvoice)
	if err != nil || len(invs) == 0 {
		return invs, total, err
	}
	refs := make([]string, len(invs))
	for i, inv := range invs {
		refs[i] = inv.Ref
	}
	lines, err := linesOf(ctx, s.Pool, refs)
	for i := range invs {
		invs[i].Lines = lines[invs[i].Ref]
	}
	return invs, total, err
}

const creditNoteCols = `c.id, c.merchant_id, c.mode, c.number, c.invoice_id, coalesce(i.number, ''), c.transaction_id,
	coalesce(c.purchase_id, ''), coalesce(c.customer_id, ''), c.currency, c.subtotal, c.tax, c.total, c.reason, c.token,
	c.issued_at, c.created_at`

func scanCreditNote(row pgx.Row) (domain.CreditNote, error) {
	var c domain.CreditNote
	err := row.Scan(&c.Ref, &c.MerchantRef, &c.Mode, &c.Number, &c.InvoiceRef, &c.InvoiceNumber, &c.TransactionRef,
		&c.PurchaseRef, &c.CustomerRef, &c.Currency, &c.Subtotal, &c.Tax, &c.Total, &c.Reason, &c.HostedToken,
		&c.IssuedAt, &c.CreatedAt)
	return c, err
}

// GetCreditNote finds a credit note of merchant in mode.
func (s *Store) GetCreditNote(ctx context.Context, merchant, mode, ref string) (domain.CreditNote, error) {
	return getCreditNote(ctx, s.Pool, merchant, mode, ref)
}

func getCreditNote(ctx context.Context, db DBTX, merchant, mode, ref string) (domain.CreditNote, error) {
	c, err := scanCreditNote(db.QueryRow(ctx, `SELECT `+creditNoteCols+` FROM credit_notes c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.merchant_id = $1 AND c.mode = $2 AND c.id = $3`, merchant, mode, ref))
	return c, notFoundIfNoRows(err, "credit note", ref)
}

// CreditNoteByToken finds the credit note of a hosted page's token, whichever merchant it
// belongs to.
func (s *Store) CreditNoteByToken(ctx context.Context, token string) (domain.CreditNote, error) {
	c, err := scanCreditNote(s.Pool.QueryRow(ctx, `SELECT `+creditNoteCols+` FROM credit_notes c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.token = $1`, token))
	return c, notFoundIfNoRows(err, "credit note", "")
}

// CreditNotesOfInvoice returns every credit note of one of the merchant's invoices, in the order
// they were issued, in one query.
func (s *Store) CreditNotesOfInvoice(ctx context.Context, merchant, mode, invoiceRef string) ([]domain.CreditNote, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+creditNoteCols+` FROM credit_notes c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.merchant_id = $1 AND c.mode = $2 AND c.invoice_id = $3 ORDER BY c.seq`, merchant, mode, invoiceRef)
	if err != nil {
		return nil, fmt.Errorf("credit notes of %s: %w", invoiceRef, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.CreditNote, error) { return scanCreditNote(r) })
}

// ListCreditNotes returns one page of the merchant's credit notes in one mode, newest first.
func (s *Store) ListCreditNotes(ctx context.Context, merchant string, f InvoiceFilter, p Page) ([]domain.CreditNote, int, error) {
	f.Status = ""
	return listPage(ctx, s.Pool, "credit_notes c JOIN invoices i ON i.id = c.invoice_id", creditNoteCols, f.where(merchant, "c"),
		"c.created_at DESC, c.id DESC", p, scanCreditNote)
}

// VoidInvoice voids an invoice of merchant in mode, its number kept, and writes invoice.voided
// in the same transaction. Only an invoice nothing was paid against can be voided: a paid one
// is refunded instead (a credit note), and an open one's processing payment is settled by the
// processor — it voids the invoice itself when the payment fails.
func (s *Store) VoidInvoice(ctx context.Context, merchant, mode, ref string) (domain.Invoice, error) {
	var inv domain.Invoice
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var status, txnStatus string
		err := tx.QueryRow(ctx, `SELECT i.status, t.status FROM invoices i JOIN transactions t ON t.id = i.transaction_id
			WHERE i.merchant_id = $1 AND i.mode = $2 AND i.id = $3 FOR UPDATE OF i`, merchant, mode, ref).Scan(&status, &txnStatus)
		if err != nil {
			return notFoundIfNoRows(err, "invoice", ref)
		}
		switch {
		case status == domain.InvoicePaid:
			return domain.Errorf(domain.CodeConflict, "", "invoice %s is paid: a paid invoice cannot be voided; refund the payment to issue a credit note", ref)
		case status == domain.InvoiceVoid:
			return domain.Errorf(domain.CodeConflict, "", "invoice %s is already void", ref)
		case txnStatus == domain.TxnPending:
			return domain.Errorf(domain.CodeConflict, "", "invoice %s is open while its payment is processing: the processor's answer decides it — paid when the payment succeeds, void when it fails", ref)
		case txnStatus == domain.TxnSucceeded:
			return domain.Errorf(domain.CodeConflict, "", "invoice %s has a succeeded payment: refund the payment to issue a credit note", ref)
		}
		if err := voidInvoice(ctx, tx, merchant, mode, ref); err != nil {
			return err
		}
		inv, err = getInvoice(ctx, tx, merchant, mode, ref)
		return err
	})
	return inv, err
}
