package activities_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/store"
)

// taxed gives the fixture's customer a registered address in DE and the merchant (whose
// purchases the fixture records live) a 19 % exclusive DE rate in live mode, and a 50 % one in
// the sandbox that must not apply.
func (f *fixture) taxed(t *testing.T) domain.TaxRate {
	t.Helper()
	org := json.RawMessage(`{"legal_name":"SuperStore GmbH","registered_address":{"city":"Berlin","country":"DE"}}`)
	if _, err := f.st.UpdateCustomer(f.ctx, f.m, f.cus.Ref, store.CustomerPatch{Organization: org}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CreateTaxRate(f.ctx, domain.TaxRate{MerchantRef: f.m, Mode: domain.ModeSandbox, Name: "Sandbox VAT",
		BasisPoints: 5000, Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	r, err := f.st.CreateTaxRate(f.ctx, domain.TaxRate{MerchantRef: f.m, Mode: domain.ModeLive, Name: "VAT",
		BasisPoints: 1900, Country: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The first attempt of a charge computes its tax (100 + 19 % = 119) and charges it; the
// processor answers 500. Before the retry the merchant archives the rate and creates a 25 % one:
// the retry still asks for 119 under the same key, adopts the charge made, and the processor,
// the ledger and the invoice all say 119 = 100 + 19 VAT.
func TestRetriedChargeChargesTheSameTotal(t *testing.T) {
	f := newFixture(t, "4242424242424242")
	rate := f.taxed(t)
	pm, _, _ := f.st.CustomerPaymentTarget(f.ctx, f.m, f.cus.Ref)
	if err := f.sb.SetCardBehaviour(f.ctx, pm, sandbox.BehaviourServerErrorAfterCharge); err != nil {
		t.Fatal(err)
	}
	f.sb.KeyWindow = time.Nanosecond
	in := f.charge(f.pur + "/period-1/charge")
	if _, err := f.a.Charge(f.ctx, in); err == nil {
		t.Fatal("the first attempt succeeded")
	}
	if _, err := f.st.ArchiveTaxRate(f.ctx, f.m, domain.ModeLive, rate.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CreateTaxRate(f.ctx, domain.TaxRate{MerchantRef: f.m, Mode: domain.ModeLive, Name: "VAT new",
		BasisPoints: 2500, Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	in.LookUpFirst = true
	res, err := f.a.Charge(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ledger, _ := f.sb.Charges(f.ctx, f.pur+"/")
	txn, _ := f.st.GetTransaction(f.ctx, f.m, res.TxnRef)
	if len(ledger) != 1 || ledger[0].Amount != 119 || txn.Amount != 119 || res.Amount != 119 {
		t.Fatalf("processor %+v, ledger %d, result %+v", ledger, txn.Amount, res)
	}
	list, _, err := f.st.ListInvoices(f.ctx, f.m, store.InvoiceFilter{Mode: domain.ModeLive, PurchaseRef: f.pur}, store.Page{Page: 1, Limit: 5})
	if err != nil || len(list) != 1 {
		t.Fatalf("invoices: %v %d", err, len(list))
	}
	inv, err := f.st.GetInvoice(f.ctx, f.m, domain.ModeLive, list[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if l := inv.Lines[0]; inv.Subtotal != 100 || inv.Tax != 19 || inv.Total != 119 || l.TaxName != "VAT" || l.TaxRateBP != 1900 {
		t.Fatalf("invoice %+v", inv)
	}
}

// An inclusive rate splits the tax out of the price: 100 charged, 84 + 16 on the invoice
// (100 / 1.19 = 84.03 → 84 net, the tax what is left).
func TestInclusiveTaxIsSplitOutOfThePrice(t *testing.T) {
	f := newFixture(t, "pm_card_visa")
	rate := f.taxed(t)
	if _, err := f.st.ArchiveTaxRate(f.ctx, f.m, domain.ModeLive, rate.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CreateTaxRate(f.ctx, domain.TaxRate{MerchantRef: f.m, Mode: domain.ModeLive, Name: "MwSt",
		BasisPoints: 1900, Country: "DE", Inclusive: true}); err != nil {
		t.Fatal(err)
	}
	res, err := f.a.Charge(f.ctx, f.charge(f.pur+"/period-1/charge"))
	if err != nil || res.Amount != 100 {
		t.Fatalf("charge: %v %+v", err, res)
	}
	list, _, _ := f.st.ListInvoices(f.ctx, f.m, store.InvoiceFilter{Mode: domain.ModeLive, PurchaseRef: f.pur}, store.Page{Page: 1, Limit: 5})
	inv, err := f.st.GetInvoice(f.ctx, f.m, domain.ModeLive, list[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if l := inv.Lines[0]; inv.Subtotal != 84 || inv.Tax != 16 || inv.Total != 100 || !l.TaxIncluded || l.TaxName != "MwSt" {
		t.Fatalf("invoice %+v", inv)
	}
}
