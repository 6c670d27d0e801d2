package starter_test

import (
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// invoicesMatchLedger checks that every succeeded payment of a purchase has exactly one paid
// invoice whose total is what the ledger charged, a processing (pending) one an open invoice,
// a failed one none or a void one (it failed after processing); that nothing else has one; and
// that the merchant's numbers run 1…n (the stack's merchant has this purchase only).
func (s *stack) invoicesMatchLedger(ref string) {
	s.t.Helper()
	txns, _, err := s.st.ListTransactions(s.ctx, s.merchant, store.TransactionFilter{PurchaseRef: ref, Kind: domain.TxnPayment},
		store.Page{Page: 1, Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	invoices, _, err := s.st.ListInvoices(s.ctx, s.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: ref},
		store.Page{Page: 1, Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	byTxn := map[string]domain.Invoice{}
	numbers := map[string]bool{}
	for _, inv := range invoices {
		if _, twice := byTxn[inv.TransactionRef]; twice {
			s.t.Fatalf("two invoices of %s", inv.TransactionRef)
		}
		byTxn[inv.TransactionRef], numbers[inv.Number] = inv, true
	}
	invoiced := 0
	want := map[string]string{domain.TxnSucceeded: domain.InvoicePaid, domain.TxnPending: domain.InvoiceOpen,
		domain.TxnFailed: domain.InvoiceVoid}
	for _, t := range txns {
		inv, ok := byTxn[t.Ref]
		switch {
		case t.Status == domain.TxnFailed && !ok:
		case !ok:
			s.t.Fatalf("%s payment %s (%d %s) has no invoice", t.Status, t.Ref, t.Amount, t.Currency)
		case inv.Total != t.Amount || inv.Currency != t.Currency || inv.Status != want[t.Status]:
			s.t.Fatalf("invoice %s: total %d %s %s, the ledger's %s payment %d %s", inv.Number, inv.Total, inv.Currency, inv.Status,
				t.Status, t.Amount, t.Currency)
		default:
			invoiced++
		}
	}
	for n := 1; n <= invoiced; n++ {
		if want := fmt.Sprintf("-%06d", n); !hasSuffix(numbers, want) {
			s.t.Fatalf("no invoice numbered …%s among %v", want, numbers)
		}
	}
	if invoiced != len(invoices) {
		s.t.Fatalf("%d invoices for %d invoiced charges", len(invoices), invoiced)
	}
	s.periodsFollowOn(invoices)
}

// periodsFollowOn checks that each invoice's line (the list carries them) names the span its
// period paid, the same for every payment of one period, each period starting where the one
// before ended.
func (s *stack) periodsFollowOn(invoices []domain.Invoice) {
	s.t.Helper()
	type span struct{ start, end time.Time }
	spans := map[int]span{}
	for _, inv := range invoices {
		if len(inv.Lines) != 1 || inv.Lines[0].PeriodStart == nil || inv.Lines[0].PeriodEnd == nil {
			s.t.Fatalf("invoice %s: lines %+v, want one with its period's span", inv.Number, inv.Lines)
		}
		l := inv.Lines[0]
		sp := span{*l.PeriodStart, *l.PeriodEnd}
		if !sp.end.After(sp.start) {
			s.t.Fatalf("invoice %s: period %d from %s to %s", inv.Number, l.Period, sp.start, sp.end)
		}
		if seen, ok := spans[l.Period]; ok && seen != sp {
			s.t.Fatalf("period %d invoiced as %v and as %v", l.Period, seen, sp)
		}
		spans[l.Period] = sp
	}
	for p, sp := range spans {
		if before, ok := spans[p-1]; ok && !before.end.Equal(sp.start) {
			s.t.Fatalf("period %d starts %s, period %d ended %s", p, sp.start, p-1, before.end)
		}
	}
}

func hasSuffix(numbers map[string]bool, suffix string) bool {
	for n := range numbers {
		if len(n) >= len(suffix) && n[len(n)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}
