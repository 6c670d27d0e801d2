package web

import (
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{4900, "USD", "$49.00"}, {5, "usd", "$0.05"}, {0, "EUR", "€0.00"}, {123456789, "GBP", "£1,234,567.89"},
		{1200, "JPY", "¥1,200"}, {-2500, "EUR", "−€25.00"}, {1500, "KWD", "1.500 KWD"}, {99, "PLN", "0.99 PLN"},
	} {
		if got := formatMoney(c.amount, c.currency); got != c.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", c.amount, c.currency, got, c.want)
		}
	}
}

func TestPlanWording(t *testing.T) {
	p := domain.Plan{Type: domain.PlanHybrid, Price: 2000, Currency: "USD", BillingCycle: domain.CycleCustom, CycleDays: 14,
		UnitPrice: 2, FreeUnits: 10000, Meter: "api_requests", SetupFee: 500}
	if got := priceLine(p); got != "$20.00 every 14 days" {
		t.Errorf("priceLine = %q", got)
	}
	if got := usageLine(p); got != "Usage billed at $0.02 per unit of api requests at the end of each period, the first 10,000 included." {
		t.Errorf("usageLine = %q", got)
	}
	if got := dueToday(p); got != 2500 {
		t.Errorf("dueToday = %d", got)
	}
	p.TrialDays = 7
	if got := dueToday(p); got != 0 {
		t.Errorf("dueToday with a trial = %d", got)
	}
}

func TestValidateCard(t *testing.T) {
	now := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	if pm, errs := validateCard("4242 4242 4242 4242", "11/26", "123", "Jane", now); len(errs) > 0 || pm != "4242424242424242" {
		t.Errorf("good card: %q %v", pm, errs)
	}
	_, errs := validateCard("4242 4242 4242 4241", "10/26", "12a", "", now)
	for _, field := range []string{"number", "exp", "cvc", "name"} {
		if errs[field] == "" {
			t.Errorf("no error for %s in %v", field, errs)
		}
	}
	if _, errs := validateCard("4000000000000002", "13/30", "123", "J", now); errs["exp"] != "Enter the expiry date as MM / YY." {
		t.Errorf("month 13: %v", errs)
	}
}

func TestDeclineWords(t *testing.T) {
	if got := declineWords("card_declined", ""); got != "Your card was declined." {
		t.Error(got)
	}
	if got := refusalWords(domain.Errorf(domain.CodePaymentRequired, "", "the payment failed again (insufficient_funds): update the card and retry")); got != "Your card has insufficient funds. Update your card and try again." {
		t.Error(got)
	}
	if got := refusalWords(domain.Errorf(domain.CodeConflict, "", "cannot reactivate: period already ended")); got != "Cannot reactivate: period already ended" {
		t.Error(got)
	}
}

func TestHistoryShowsRefunds(t *testing.T) {
	pay := domain.Transaction{Kind: domain.TxnPayment, Status: domain.TxnSucceeded, Amount: 4900, Currency: "USD", RefundedAmount: 2500}
	if v := txnViewOf(pay, "Support Bot · Pro", time.UTC); v.Status != "Partly refunded" || v.Detail != "$25.00 refunded" {
		t.Errorf("partly refunded payment: %+v", v)
	}
	pay.RefundedAmount = 4900
	if v := txnViewOf(pay, "x", time.UTC); v.Status != "Refunded" {
		t.Errorf("refunded payment: %+v", v)
	}
	refund := domain.Transaction{Kind: domain.TxnRefund, Status: domain.TxnSucceeded, Amount: 2500, Currency: "USD", Reason: "Double charge"}
	if v := txnViewOf(refund, "Support Bot · Pro", time.UTC); v.Amount != "−$25.00" || v.Description != "Refund · Support Bot · Pro" || v.Detail != "Double charge" {
		t.Errorf("refund: %+v", v)
	}
}
