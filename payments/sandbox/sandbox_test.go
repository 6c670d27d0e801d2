package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// newSandbox returns a processor on a fresh database and a sandbox customer id.
func newSandbox(t *testing.T) (*sandbox.Processor, string) {
	t.Helper()
	p := sandbox.New(testenv.Postgres(t).Pool)
	cus, err := p.EnsureCustomer(context.Background(), payments.CustomerInput{MerchantRef: "mer_1", CustomerRef: "cus_abc"})
	if err != nil {
		t.Fatal(err)
	}
	return p, cus
}

func attach(t *testing.T, p *sandbox.Processor, cus, pm string) payments.Card {
	t.Helper()
	card, err := p.AttachPaymentMethod(context.Background(), payments.AttachInput{ProcessorCustomerID: cus, PaymentMethod: pm})
	if err != nil {
		t.Fatalf("attach %s: %v", pm, err)
	}
	return card
}

func charge(cus, pm, key string, amount int64) payments.ChargeInput {
	return payments.ChargeInput{IdempotencyKey: key, ProcessorCustomerID: cus, PaymentMethod: pm,
		Amount: amount, Currency: "usd", Description: "Pro, period 1"}
}

// wantDecline fails unless err is a *DeclineError with code.
func wantDecline(t *testing.T, err error, code string) {
	t.Helper()
	d, ok := payments.IsDecline(err)
	if !ok || d.Code != code {
		t.Fatalf("want decline %s, got %v", code, err)
	}
}

func ledger(t *testing.T, p *sandbox.Processor, prefix string) []sandbox.LedgerCharge {
	t.Helper()
	charges, err := p.Charges(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return charges
}

func TestEnsureCustomerIsStable(t *testing.T) {
	p, cus := newSandbox(t)
	again, err := p.EnsureCustomer(context.Background(), payments.CustomerInput{CustomerRef: "cus_abc"})
	if err != nil || again != cus || cus != "cus_sb_abc" {
		t.Fatalf("got %q then %q, %v", cus, again, err)
	}
	kept, _ := p.EnsureCustomer(context.Background(), payments.CustomerInput{CustomerRef: "cus_abc", ExistingID: "cus_sb_old"})
	if kept != "cus_sb_old" {
		t.Fatalf("existing id not kept: %q", kept)
	}
	_, err = p.EnsureCustomer(context.Background(), payments.CustomerInput{})
	wantDecline(t, err, "invalid_request")
}

func TestAttach(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	for _, tc := range []struct {
		in, brand, last4, declineCode string
	}{
		{in: "4242 4242 4242 4242", brand: "visa", last4: "4242"},
		{in: "4000-0000-0000-0341", brand: "visa", last4: "0341"}, // attaches, fails later
		{in: "5555555555554444", brand: "mastercard", last4: "4444"},
		{in: "4000 0000 0000 0002", declineCode: "card_declined"},
		{in: "4000000000009995", declineCode: "insufficient_funds"},
		{in: "4111 1111 1111 1112", declineCode: "invalid_number"},
		{in: "pm_card_visa", brand: "visa", last4: "4242"},
		{in: "pm_card_mastercard", brand: "mastercard", last4: "4444"},
		{in: "pm_card_chargeCustomerFail", brand: "visa", last4: "0341"},
		{in: "pm_card_chargeDeclined", declineCode: "card_declined"},
		{in: "pm_card_chargeDeclinedInsufficientFunds", declineCode: "insufficient_funds"},
		{in: "pm_nonsense", declineCode: "invalid_request"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			card, err := p.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: cus, PaymentMethod: tc.in})
			if tc.declineCode != "" {
				wantDecline(t, err, tc.declineCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if card.Brand != tc.brand || card.Last4 != tc.last4 || card.ExpMonth != 12 || card.ExpYear != 2034 {
				t.Fatalf("card %+v", card)
			}
			if len(card.PaymentMethod) < len("pm_sb_")+16 || card.PaymentMethod[:6] != "pm_sb_" {
				t.Fatalf("payment method id %q", card.PaymentMethod)
			}
			// Re-attaching the sandbox id to its customer answers the same card; to another refuses.
			again := attach(t, p, cus, card.PaymentMethod)
			if again != card {
				t.Fatalf("re-attach: %+v != %+v", again, card)
			}
			_, err = p.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: "cus_sb_other", PaymentMethod: card.PaymentMethod})
			wantDecline(t, err, "invalid_request")
		})
	}
}

func TestChargeFollowsTestCards(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	for i, tc := range []struct {
		pm, attachFirst, declineCode string
	}{
		{attachFirst: "4242424242424242"},
		{attachFirst: "4000000000000341", declineCode: "card_declined"},
		{attachFirst: "pm_card_visa"},
		{attachFirst: "pm_card_mastercard"},
		{attachFirst: "pm_card_chargeCustomerFail", declineCode: "card_declined"},
		// Stripe's test ids may also be charged without attaching.
		{pm: "pm_card_visa"},
		{pm: "pm_card_mastercard"},
		{pm: "pm_card_chargeDeclined", declineCode: "card_declined"},
		{pm: "pm_card_chargeDeclinedInsufficientFunds", declineCode: "insufficient_funds"},
		{pm: "pm_card_chargeCustomerFail", declineCode: "card_declined"},
	} {
		name := tc.pm + tc.attachFirst
		t.Run(name, func(t *testing.T) {
			pm := tc.pm
			if tc.attachFirst != "" {
				pm = attach(t, p, cus, tc.attachFirst).PaymentMethod
			}
			key := fmt.Sprintf("pur_%d/period-1/charge", i)
			res, err := p.Charge(ctx, charge(cus, pm, key, 2500))
			if tc.declineCode != "" {
				wantDecline(t, err, tc.declineCode)
				if res.Status != "failed" || res.ProcessorRef == "" {
					t.Fatalf("declined result %+v", res)
				}
			} else if err != nil || res.Status != "succeeded" || res.ProcessorRef[:6] != "ch_sb_" {
				t.Fatalf("charge: %+v, %v", res, err)
			}
			got := ledger(t, p, key)
			if len(got) != 1 || got[0].ID != res.ProcessorRef || got[0].Amount != 2500 || got[0].Currency != "USD" ||
				got[0].Status != res.Status || got[0].FailureCode != tc.declineCode {
				t.Fatalf("ledger %+v", got)
			}
		})
	}
}

func TestChargeInvalidRequestsAreNotRecorded(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	visa := attach(t, p, cus, "4242424242424242").PaymentMethod
	for name, in := range map[string]payments.ChargeInput{
		"unknown pm":       charge(cus, "pm_sb_nope", "k1", 100),
		"card number":      charge(cus, "4242424242424242", "k2", 100),
		"other customer":   charge("cus_sb_other", visa, "k3", 100),
		"zero amount":      charge(cus, visa, "k4", 0),
		"no key":           charge(cus, visa, "", 100),
		"no customer":      charge("", visa, "k5", 100),
		"bad currency":     {IdempotencyKey: "k6", ProcessorCustomerID: cus, PaymentMethod: visa, Amount: 1, Currency: "dollars"},
		"no paymentmethod": charge(cus, "", "k7", 100),
	} {
		_, err := p.Charge(ctx, in)
		if d, ok := payments.IsDecline(err); !ok || d.Code != "invalid_request" {
			t.Errorf("%s: want invalid_request, got %v", name, err)
		}
	}
	if got := ledger(t, p, ""); len(got) != 0 {
		t.Fatalf("invalid requests recorded: %+v", got)
	}
}

// Like Stripe, the sandbox refuses a charge below the minimum for its currency (amount_too_small),
// as an invalid request that is never recorded, and takes the minimum itself.
func TestChargeBelowTheMinimumIsRefused(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	visa := attach(t, p, cus, "4242424242424242").PaymentMethod
	small := map[string]payments.ChargeInput{"49 cents": charge(cus, visa, "small-usd", 49)}
	gbp := charge(cus, visa, "small-gbp", 29)
	gbp.Currency = "gbp"
	small["29 pence"] = gbp
	for name, in := range small {
		_, err := p.Charge(ctx, in)
		if d, ok := payments.IsDecline(err); !ok || d.Code != "invalid_request" || !strings.Contains(d.Message, "amount_too_small") {
			t.Errorf("%s: want invalid_request (amount_too_small), got %v", name, err)
		}
	}
	if got := ledger(t, p, ""); len(got) != 0 {
		t.Fatalf("refused charges recorded: %+v", got)
	}
	gbp.IdempotencyKey, gbp.Amount = "min-gbp", 30
	for _, in := range []payments.ChargeInput{charge(cus, visa, "min-usd", 50), gbp} {
		if res, err := p.Charge(ctx, in); err != nil || res.Status != "succeeded" {
			t.Fatalf("the minimum itself (%d %s): %+v %v", in.Amount, in.Currency, res, err)
		}
	}
}

func TestChargeReplaysByKey(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	visa := attach(t, p, cus, "4242 4242 4242 4242").PaymentMethod
	failing := attach(t, p, cus, "4000 0000 0000 0341").PaymentMethod

	first, err := p.Charge(ctx, charge(cus, visa, "pur_a/period-1/charge", 1000))
	if err != nil {
		t.Fatal(err)
	}
	in := charge(cus, visa, "pur_a/period-1/charge", 1000)
	in.Currency = "USD"              // currency case does not matter
	in.Description = "another words" // nor does text that moves no money
	again, err := p.Charge(ctx, in)
	if err != nil || again != first {
		t.Fatalf("replay: %+v, %v; first %+v", again, err, first)
	}

	// A decline replays as the same decline with the same charge id.
	d1, err1 := p.Charge(ctx, charge(cus, failing, "pur_b/period-1/charge", 1000))
	d2, err2 := p.Charge(ctx, charge(cus, failing, "pur_b/period-1/charge", 1000))
	wantDecline(t, err1, "card_declined")
	wantDecline(t, err2, "card_declined")
	if d1 != d2 {
		t.Fatalf("decline replay: %+v != %+v", d1, d2)
	}

	// The card starts failing: the recorded success still replays, a new key is declined.
	if err := p.SetCardBehaviour(ctx, visa, sandbox.BehaviourFailsAfterAttach); err != nil {
		t.Fatal(err)
	}
	if again, err := p.Charge(ctx, charge(cus, visa, "pur_a/period-1/charge", 1000)); err != nil || again != first {
		t.Fatalf("replay after card change: %+v, %v", again, err)
	}
	_, err = p.Charge(ctx, charge(cus, visa, "pur_a/period-2/charge", 1000))
	wantDecline(t, err, "card_declined")
	// ... and recovers.
	if err := p.SetCardBehaviour(ctx, visa, sandbox.BehaviourSucceeds); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Charge(ctx, charge(cus, visa, "pur_a/period-2/retry-1", 1000)); err != nil {
		t.Fatal(err)
	}

	if got := ledger(t, p, "pur_a/"); len(got) != 3 {
		t.Fatalf("pur_a ledger: %+v", got)
	}
	if got := ledger(t, p, "pur_b/"); len(got) != 1 {
		t.Fatalf("pur_b ledger: %+v", got)
	}
}

func TestChargeKeyReusedWithOtherParameters(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	visa := attach(t, p, cus, "pm_card_visa").PaymentMethod
	other := attach(t, p, cus, "pm_card_mastercard").PaymentMethod
	if _, err := p.Charge(ctx, charge(cus, visa, "k", 1000)); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]payments.ChargeInput{
		"amount":   charge(cus, visa, "k", 1001),
		"card":     charge(cus, other, "k", 1000),
		"currency": {IdempotencyKey: "k", ProcessorCustomerID: cus, PaymentMethod: visa, Amount: 1000, Currency: "EUR"},
	} {
		_, err := p.Charge(ctx, in)
		if !errors.Is(err, payments.ErrIdempotencyMismatch) {
			t.Errorf("%s: want mismatch, got %v", name, err)
		}
		if _, ok := payments.IsDecline(err); ok {
			t.Errorf("%s: a mismatch is not a decline", name)
		}
	}
	if got := ledger(t, p, ""); len(got) != 1 {
		t.Fatalf("ledger %+v", got)
	}
}

func TestConcurrentChargesWithOneKeyChargeOnce(t *testing.T) {
	p, cus := newSandbox(t)
	visa := attach(t, p, cus, "4242424242424242").PaymentMethod
	const n = 20
	results := make([]payments.ChargeResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = p.Charge(context.Background(), charge(cus, visa, "pur_c/period-1/charge", 4900))
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("call %d: %+v, %v; first %+v", i, results[i], errs[i], results[0])
		}
	}
	if got := ledger(t, p, "pur_c/"); len(got) != 1 || got[0].ID != results[0].ProcessorRef {
		t.Fatalf("ledger %+v", got)
	}
}

func TestLedgerPrefixIsLiteral(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	// "_" and "%" are LIKE wildcards; the prefix must match them literally.
	for _, key := range []string{"pur_a/period-1/charge", "purXa/period-1/charge", "pur_a%/x", "pur_ab/period-1/charge"} {
		if _, err := p.Charge(ctx, charge(cus, "pm_card_visa", key, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ledger(t, p, "pur_a/"); len(got) != 1 || got[0].IdempotencyKey != "pur_a/period-1/charge" {
		t.Fatalf("ledger %+v", got)
	}
	if got := ledger(t, p, ""); len(got) != 4 {
		t.Fatalf("all: %d", len(got))
	}
}
