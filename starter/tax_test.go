package starter_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// An exclusive 19 % rate of the customer's country over four periods and a refund: every charge
// is the price plus its tax (1999 + 380), at the processor, in the ledger and in the workflow's
// totals; every invoice splits it into subtotal and tax and totals what was charged; the credit
// note of a partial refund carries the tax back in the proportion refunded, half up.
func TestExclusiveTaxOverRenewalsAndARefund(t *testing.T) {
	s := newStack(t)
	nl := "NL"
	if _, err := s.st.UpdateInvoiceSettings(s.ctx, s.merchant, store.InvoiceSettingsPatch{Country: &nl}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.CreateTaxRate(s.ctx, domain.TaxRate{MerchantRef: s.merchant, Mode: domain.ModeSandbox, Name: "VAT",
		BasisPoints: 1900, Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	cus, _ := s.customer("4242424242424242")
	org := json.RawMessage(`{"legal_name":"SuperStore GmbH","tax_ids":[{"id":"368807022","type":"GENERIC_TAX_ID"}],
		"registered_address":{"line1":"Hasengarten 14","city":"Berlin","postal_code":"79341","country":"DE"}}`)
	if _, err := s.st.UpdateCustomer(s.ctx, s.merchant, cus.Ref, store.CustomerPatch{Organization: org}); err != nil {
		t.Fatal(err)
	}
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1999})
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	for i := 0; i < 3; i++ {
		st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	}
	const gross = 1999 + 380 // 1999 × 19 % = 379.81, half up
	if st.Period != 4 || st.PaidTotal != 4*gross {
		t.Fatalf("after 3 renewals: period %d paid %d, want %d", st.Period, st.PaidTotal, 4*gross)
	}
	ok, _ := s.ledger(ref)
	for _, c := range ok {
		if c.Amount != gross {
			t.Fatalf("the processor charged %d under %s, want %d", c.Amount, c.IdempotencyKey, gross)
		}
	}
	if len(ok) != 4 {
		t.Fatalf("%d charges at the processor", len(ok))
	}
	s.invoicesMatchLedger(ref)
	invoices, _, err := s.st.ListInvoices(s.ctx, s.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: ref},
		store.Page{Page: 1, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invoices {
		full, err := s.st.GetInvoice(s.ctx, s.merchant, domain.ModeSandbox, inv.Ref)
		if err != nil {
			t.Fatal(err)
		}
		l := full.Lines[0]
		if full.Subtotal != 1999 || full.Tax != 380 || full.Total != gross || full.TaxNote != "" ||
			l.Amount != 1999 || l.Tax != 380 || l.TaxName != "VAT" || l.TaxRateBP != 1900 || l.TaxIncluded {
			t.Fatalf("invoice %s: %+v line %+v", full.Number, full, l)
		}
	}

	res, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "r1", Amount: 1000, KeepAccess: true})
	if err != nil || res.Amount != 1000 {
		t.Fatalf("refund: %v %+v", err, res)
	}
	var cn domain.CreditNote
	eventually(t, "the credit note", func() bool {
		l, _, err := s.st.ListCreditNotes(s.ctx, s.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: ref},
			store.Page{Page: 1, Limit: 10})
		if err != nil || len(l) != 1 {
			return false
		}
		cn = l[0]
		return true
	})
	// 1000 × 380 / 2379 = 159.73 → 160 of tax back, 840 of price
	if cn.Total != 1000 || cn.Tax != 160 || cn.Subtotal != 840 || cn.TransactionRef != res.TransactionRef {
		t.Fatalf("credit note: %+v", cn)
	}
	rest, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "r2", KeepAccess: true})
	if err != nil || rest.Amount != gross-1000 {
		t.Fatalf("refund the rest: %v %+v", err, rest)
	}
	eventually(t, "both credit notes", func() bool {
		l, _, err := s.st.ListCreditNotes(s.ctx, s.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox, PurchaseRef: ref},
			store.Page{Page: 1, Limit: 10})
		if err != nil || len(l) != 2 {
			return false
		}
		// the two notes give back exactly the invoice's tax and total
		return l[0].Tax+l[1].Tax == 380 && l[0].Total+l[1].Total == gross
	})
	recordHistory(s, ref, "exclusive-tax")
}

// A taxed first payment that the bank wants authenticated counts what it charged, its tax
// included, once the customer completes it — as a payment that succeeded at once does — so
// the whole of it can be refunded.
func TestTaxedFirstPaymentAuthenticatedCountsItsTax(t *testing.T) {
	s := newStack(t)
	if _, err := s.st.CreateTaxRate(s.ctx, domain.TaxRate{MerchantRef: s.merchant, Mode: domain.ModeSandbox, Name: "VAT",
		BasisPoints: 1900, Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	cus, _ := s.customer("4000002760003184")
	org := json.RawMessage(`{"legal_name":"SuperStore GmbH","registered_address":{"line1":"Hasengarten 14","city":"Berlin","postal_code":"79341","country":"DE"}}`)
	if _, err := s.st.UpdateCustomer(s.ctx, s.merchant, cus.Ref, store.CustomerPatch{Organization: org}); err != nil {
		t.Fatal(err)
	}
	st := s.start(cus, s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1999}))
	ref := st.PurchaseRef
	auth, err := s.st.OpenPaymentAuthentication(s.ctx, s.merchant, ref)
	if err != nil || st.Status != domain.PurchasePending {
		t.Fatalf("a first payment that asks: %v %s", err, st.Status)
	}
	ev, err := s.sb.Authenticate(s.ctx, auth.PaymentRef, true)
	if err != nil {
		t.Fatal(err)
	}
	s.deliver("taxed-approved", auth.PaymentRef, ev) // event ids are one namespace across the tests
	eventually(t, "active", func() bool { return s.projection(ref).Status == domain.PurchaseActive })
	const gross = 1999 + 380
	final, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil || final.PaidTotal != gross || len(final.Payments) != 1 || final.Payments[0].Amount != gross {
		t.Fatalf("state: %v paid %d %+v", err, final.PaidTotal, final.Payments)
	}
	if ok, _ := s.ledger(ref); len(ok) != 1 || ok[0].Amount != gross {
		t.Fatalf("the processor charged %+v, want one charge of %d", ok, gross)
	}
	s.invoicesMatchLedger(ref)
	res, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "all", KeepAccess: true})
	if err != nil || res.Amount != gross {
		t.Fatalf("refund of the whole payment: %v %+v", err, res)
	}
}
