package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// billing is a merchant with n customers each holding a purchase, to write payments against.
type billing struct {
	st        *store.Store
	merchant  string
	customers []string
	purchases []string
	product   string
}

func newBilling(t *testing.T, st *store.Store, n int, sandbox bool) *billing {
	t.Helper()
	ctx := context.Background()
	m, c, prd, pln := catalog(t, st)
	b := &billing{st: st, merchant: m, product: prd.Ref}
	for i := range n {
		cus := c
		if i > 0 {
			var err error
			if cus, err = st.CreateCustomer(ctx, domain.Customer{MerchantRef: m, Email: fmt.Sprintf("c%d@x.io", i)}); err != nil {
				t.Fatal(err)
			}
		}
		p := domain.Purchase{Ref: domain.NewRef("pur"), MerchantRef: m, CustomerRef: cus.Ref, ProductRef: prd.Ref, PlanRef: pln.Ref,
			Status: domain.PurchaseActive, Currency: "USD", Seq: 1, Sandbox: sandbox, Period: 2}
		if _, err := st.UpsertPurchase(ctx, p); err != nil {
			t.Fatal(err)
		}
		b.customers, b.purchases = append(b.customers, cus.Ref), append(b.purchases, p.Ref)
	}
	return b
}

// pay records payment i of period 2 with the given status.
func (b *billing) pay(i int, status string) (domain.Transaction, error) {
	out, _, err := b.st.InsertTransaction(context.Background(), domain.Transaction{MerchantRef: b.merchant, Kind: domain.TxnPayment,
		Status: status, Amount: 1000, Currency: "USD", PurchaseRef: b.purchases[i], CustomerRef: b.customers[i], ProductRef: b.product,
		Period: 2, Reason: "Pro — period 2", IdempotencyKey: b.purchases[i] + "/period-2/charge", Processor: "sandbox",
		OccurredAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	return out, err
}

func (b *billing) invoices(t *testing.T, mode string) []domain.Invoice {
	t.Helper()
	list, total, err := b.st.ListInvoices(context.Background(), b.merchant, store.InvoiceFilter{Mode: mode}, store.Page{Page: 1, Limit: 100})
	if err != nil || total != len(list) {
		t.Fatalf("invoices: %v (%d of %d)", err, len(list), total)
	}
	return list
}

// Issue 17 point 2: 64 renewals land at once — half recorded succeeded, half settled from
// processing (their invoices issued open, numbered, when accepted) — and their invoices hold 64
// consecutive numbers, no gap, no duplicate. A failed
// charge takes no number; a retried write of a charge issues nothing new.
func TestInvoiceNumbersAreGaplessUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	const n = 64
	b := newBilling(t, st, n+1, true)

	pending := make([]domain.Transaction, n)
	for i := 0; i < n; i += 2 { // the odd ones are processing until they settle, below
		p, err := b.pay(i+1, domain.TxnPending)
		if err != nil {
			t.Fatal(err)
		}
		pending[i+1] = p
	}
	if got := b.invoices(t, domain.ModeSandbox); len(got) != n/2 || got[0].Status != domain.InvoiceOpen || got[0].Number == "" {
		t.Fatalf("a processing payment's invoice is open and numbered: %+v", got)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			if i%2 == 0 {
				_, err = b.pay(i, domain.TxnSucceeded)
			} else {
				err = st.SettleTransaction(ctx, b.merchant, pending[i].Ref, domain.TxnSucceeded, "")
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// a failed charge, then retries of charges already invoiced: no number taken
	if _, err := b.pay(n, domain.TxnFailed); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := b.pay(i*2, domain.TxnSucceeded); err != nil {
			t.Fatal(err)
		}
		if err := st.SettleTransaction(ctx, b.merchant, pending[i*2+1].Ref, domain.TxnSucceeded, ""); err != nil {
			t.Fatal(err)
		}
	}

	list := b.invoices(t, domain.ModeSandbox)
	var numbers []string
	txns := map[string]bool{}
	for _, inv := range list {
		numbers = append(numbers, inv.Number)
		txns[inv.TransactionRef] = true
		if inv.Status != domain.InvoicePaid || inv.Total != 1000 || inv.Mode != domain.ModeSandbox {
			t.Errorf("invoice %s: %+v", inv.Ref, inv)
		}
	}
	slices.Sort(numbers)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("INV-2026-%06d", i+1)
	}
	if !slices.Equal(numbers, want) || len(txns) != n {
		t.Fatalf("%d invoices of %d charges, numbers %v", len(list), len(txns), numbers)
	}
	t.Logf("%d concurrent renewals: numbers %s … %s, consecutive, none repeated", n, numbers[0], numbers[n-1])

	// the next charge continues the sequence: the failed one took nothing
	if _, _, err := st.InsertTransaction(ctx, domain.Transaction{MerchantRef: b.merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: 1000, Currency: "USD", PurchaseRef: b.purchases[n], CustomerRef: b.customers[n],
		Period: 2, IdempotencyKey: b.purchases[n] + "/period-2/retry-1", Processor: "sandbox",
		OccurredAt: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if got := b.invoices(t, domain.ModeSandbox)[0]; got.Number != fmt.Sprintf("INV-2026-%06d", n+1) {
		t.Fatalf("after a failed charge the next invoice is %q", got.Number)
	}
}

// Numbering is per merchant and mode: another merchant and the live mode count from 1. A
// merchant's pattern and prefix shape the number; the buyer is seed 002's organization.
func TestInvoicePerMerchantAndModeWithDocumentDetails(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	sb := newBilling(t, st, 1, true)
	live := newBilling(t, st, 1, false)
	org := json.RawMessage(`{"legal_name":"SuperStore GmbH","tax_ids":[{"id":"368807022","type":"GENERIC_TAX_ID"}],
		"registered_address":{"line1":"Hasengarten 14","city":"Berlin","postal_code":"79341","state":"","country":"DE"}}`)
	if _, err := st.Pool.Exec(ctx, `UPDATE customers SET organization = $2, type = 'ORGANIZATION' WHERE id = $1`, live.customers[0], org); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO invoice_settings (merchant_id, prefix, pattern, address, tax_id)
		VALUES ($1, 'ACME', '<PREFIX>/<YYYY>/<0001>', 'Main St 1'||chr(10)||'Springfield', 'US12-3456789')`, live.merchant); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.pay(0, domain.TxnSucceeded); err != nil {
		t.Fatal(err)
	}
	pay, err := live.pay(0, domain.TxnSucceeded)
	if err != nil {
		t.Fatal(err)
	}
	if got := sb.invoices(t, domain.ModeSandbox); len(got) != 1 || got[0].Number != "INV-2026-000001" {
		t.Fatalf("sandbox merchant: %+v", got)
	}
	if got := live.invoices(t, domain.ModeSandbox); len(got) != 0 {
		t.Fatalf("a live invoice listed in the sandbox: %+v", got)
	}
	list := live.invoices(t, domain.ModeLive)
	if len(list) != 1 {
		t.Fatalf("live invoices: %+v", list)
	}
	inv, err := st.GetInvoice(ctx, live.merchant, domain.ModeLive, list[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "ACME/2026/0001" || inv.TransactionRef != pay.Ref || inv.Buyer.Name != "SuperStore GmbH" ||
		inv.Buyer.Country != "DE" || len(inv.Buyer.TaxIDs) != 1 || inv.Buyer.TaxIDs[0].ID != "368807022" ||
		!slices.Equal(inv.Buyer.AddressLines, []string{"Hasengarten 14", "79341 Berlin", "DE"}) ||
		!slices.Equal(inv.Seller.AddressLines, []string{"Main St 1", "Springfield"}) || inv.Seller.TaxIDs[0].ID != "US12-3456789" {
		t.Fatalf("invoice: %+v", inv)
	}
	if len(inv.Lines) != 1 || inv.Lines[0].Amount != 1000 || inv.Lines[0].Description != "Pro — period 2" || inv.Subtotal != 1000 {
		t.Fatalf("lines: %+v", inv.Lines)
	}
	if _, err := st.GetInvoice(ctx, sb.merchant, domain.ModeLive, inv.Ref); domain.AsError(err) == nil {
		t.Fatalf("another merchant reads the invoice: %v", err)
	}
	if _, err := st.GetInvoice(ctx, live.merchant, domain.ModeSandbox, inv.Ref); domain.AsError(err) == nil {
		t.Fatalf("the sandbox reads a live invoice: %v", err)
	}
	events, _, err := st.ListEvents(ctx, live.merchant, store.EventFilter{Mode: domain.ModeLive, ObjectRef: inv.Ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(events) != 2 || events[0].Type+events[1].Type != domain.EventInvoicePaid+domain.EventInvoiceCreated &&
		events[0].Type+events[1].Type != domain.EventInvoiceCreated+domain.EventInvoicePaid {
		t.Fatalf("events of %s: %v %+v", inv.Ref, err, events)
	}
}

// A refund issues a credit note linked to its payment's invoice, once, numbered in its own
// sequence; its event is credit_note.created.
func TestRefundIssuesACreditNote(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	b := newBilling(t, st, 1, true)
	pay, err := b.pay(0, domain.TxnSucceeded)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := st.ReserveRefund(ctx, store.RefundReservation{MerchantRef: b.merchant, PurchaseRef: b.purchases[0],
		PaymentRef: pay.Ref, Amount: 400, IdempotencyKey: "refund-1", Reason: "requested_by_customer", Processor: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.ListCreditNotes(ctx, b.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox}, store.Page{Page: 1, Limit: 10}); len(got) != 0 {
		t.Fatalf("a refund under way has a credit note: %+v", got)
	}
	for range 2 { // a retried settle issues nothing more
		if _, err := st.SettleRefund(ctx, b.merchant, r.Ref, "re_1", nil); err != nil {
			t.Fatal(err)
		}
	}
	notes, total, err := st.ListCreditNotes(ctx, b.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox}, store.Page{Page: 1, Limit: 10})
	if err != nil || total != 1 {
		t.Fatalf("credit notes: %v %+v", err, notes)
	}
	inv := b.invoices(t, domain.ModeSandbox)[0]
	cn := notes[0]
	if cn.Number != "INV-CN-2026-000001" || cn.InvoiceRef != inv.Ref || cn.InvoiceNumber != inv.Number || cn.Total != 400 ||
		cn.TransactionRef != r.Ref || cn.Reason != "requested_by_customer" {
		t.Fatalf("credit note: %+v of invoice %+v", cn, inv)
	}
	if inv.CreditNotes[0] != cn.Ref || inv.CreditNoteNumbers[0] != cn.Number {
		t.Fatalf("the invoice does not list its credit note: %+v", inv)
	}
	// a second partial refund: the invoice's credit notes are read in one query, in issue order,
	// and another invoice's are not among them
	r2, _, err := st.ReserveRefund(ctx, store.RefundReservation{MerchantRef: b.merchant, PurchaseRef: b.purchases[0],
		PaymentRef: pay.Ref, Amount: 100, IdempotencyKey: "refund-2", Processor: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SettleRefund(ctx, b.merchant, r2.Ref, "re_2", nil); err != nil {
		t.Fatal(err)
	}
	of, err := st.CreditNotesOfInvoice(ctx, b.merchant, domain.ModeSandbox, inv.Ref)
	if err != nil || len(of) != 2 || of[0].Ref != cn.Ref || of[1].Number != "INV-CN-2026-000002" || of[1].TransactionRef != r2.Ref {
		t.Fatalf("credit notes of %s: %v %+v", inv.Ref, err, of)
	}
	if of, err := st.CreditNotesOfInvoice(ctx, b.merchant, domain.ModeLive, inv.Ref); err != nil || len(of) != 0 {
		t.Fatalf("credit notes of %s from the live mode: %v %+v", inv.Ref, err, of)
	}
	events, _, err := st.ListEvents(ctx, b.merchant, store.EventFilter{Mode: domain.ModeSandbox, Type: domain.EventCreditNoteCreated}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(events) != 2 || events[1].ObjectRef != cn.Ref || events[0].ObjectRef != of[1].Ref {
		t.Fatalf("credit note events: %v %+v", err, events)
	}
}

// A processing payment's invoice is open and numbered from the start; the payment failing voids
// it with its number kept and invoice.voided written, so the next invoice continues the sequence.
// A settle repeated changes nothing, and the charge keeps its one invoice.
func TestFailedProcessingPaymentVoidsItsInvoice(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	b := newBilling(t, st, 2, true)
	pending, err := b.pay(0, domain.TxnPending)
	if err != nil {
		t.Fatal(err)
	}
	open := b.invoices(t, domain.ModeSandbox)
	if len(open) != 1 || open[0].Status != domain.InvoiceOpen || open[0].Number != "INV-2026-000001" || open[0].PaidAt != nil {
		t.Fatalf("open invoice: %+v", open)
	}
	if _, err := st.VoidInvoice(ctx, b.merchant, domain.ModeSandbox, open[0].Ref); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("voiding the invoice of a processing payment: %v", err)
	}
	for range 2 {
		if err := st.SettleTransaction(ctx, b.merchant, pending.Ref, domain.TxnFailed, "card_declined"); err != nil {
			t.Fatal(err)
		}
	}
	void, err := st.GetInvoice(ctx, b.merchant, domain.ModeSandbox, open[0].Ref)
	if err != nil || void.Status != domain.InvoiceVoid || void.Number != open[0].Number || void.VoidedAt == nil ||
		void.VoidedAt.Before(*void.IssuedAt) {
		t.Fatalf("void invoice: %v %+v", err, void)
	}
	if _, err := st.VoidInvoice(ctx, b.merchant, domain.ModeSandbox, void.Ref); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("voiding a void invoice: %v", err)
	}
	events, _, err := st.ListEvents(ctx, b.merchant, store.EventFilter{Mode: domain.ModeSandbox, ObjectRef: void.Ref}, store.Page{Page: 1, Limit: 10})
	if err != nil || len(events) != 2 || events[0].Type != domain.EventInvoiceVoided && events[1].Type != domain.EventInvoiceVoided {
		t.Fatalf("events of %s: %v %+v", void.Ref, err, events)
	}
	paid, err := b.pay(1, domain.TxnSucceeded)
	if err != nil {
		t.Fatal(err)
	}
	list := b.invoices(t, domain.ModeSandbox)
	if len(list) != 2 || list[0].TransactionRef != paid.Ref || list[0].Number != "INV-2026-000002" || list[0].Status != domain.InvoicePaid {
		t.Fatalf("after a void invoice: %+v", list)
	}
	if _, err := st.VoidInvoice(ctx, b.merchant, domain.ModeSandbox, list[0].Ref); domain.ErrorCode(err) != domain.CodeConflict ||
		!strings.Contains(err.Error(), "refund the payment to issue a credit note") {
		t.Fatalf("voiding a paid invoice: %v", err)
	}
	if _, err := st.VoidInvoice(ctx, b.merchant, domain.ModeLive, list[0].Ref); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("voiding from the other mode: %v", err)
	}
}

// The void route's one accepting path: an invoice nothing was paid against, in a state the
// schema allows but Tollgate writes no path to yet (uncollectible: its payment failed), is
// voided with its number kept and invoice.voided written in the same transaction.
func TestVoidInvoiceNothingWasPaidAgainst(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	b := newBilling(t, st, 1, true)
	pending, err := b.pay(0, domain.TxnPending)
	if err != nil {
		t.Fatal(err)
	}
	inv := b.invoices(t, domain.ModeSandbox)[0]
	if _, err := st.Pool.Exec(ctx, `WITH t AS (UPDATE transactions SET status = 'failed' WHERE id = $1)
		UPDATE invoices SET status = 'uncollectible' WHERE id = $2`, pending.Ref, inv.Ref); err != nil {
		t.Fatal(err)
	}
	void, err := st.VoidInvoice(ctx, b.merchant, domain.ModeSandbox, inv.Ref)
	if err != nil || void.Status != domain.InvoiceVoid || void.Number != inv.Number || void.VoidedAt == nil {
		t.Fatalf("void: %v %+v", err, void)
	}
	events, _, err := st.ListEvents(ctx, b.merchant, store.EventFilter{Mode: domain.ModeSandbox, Type: domain.EventInvoiceVoided},
		store.Page{Page: 1, Limit: 10})
	if err != nil || len(events) != 1 || events[0].ObjectRef != inv.Ref {
		t.Fatalf("invoice.voided: %v %+v", err, events)
	}
	if _, err := st.VoidInvoice(ctx, b.merchant, domain.ModeSandbox, inv.Ref); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("voided twice: %v", err)
	}
}
