package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

func refund(chargeRef, key string, amount int64) payments.RefundInput {
	return payments.RefundInput{IdempotencyKey: key, ChargeRef: chargeRef, Amount: amount, Currency: "USD", Reason: "requested_by_customer"}
}

func TestPartialRefundsUpToTheCharge(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	ch, err := p.Charge(ctx, charge(cus, "pm_card_visa", "pur_r/period-1/charge", 1000))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := p.Refund(ctx, refund(ch.ProcessorRef, "rfd_1", 300))
	if err != nil || r1.Status != "succeeded" || r1.ProcessorRef[:6] != "re_sb_" {
		t.Fatalf("refund 1: %+v, %v", r1, err)
	}
	// A replay answers the first refund and moves nothing.
	if again, err := p.Refund(ctx, refund(ch.ProcessorRef, "rfd_1", 300)); err != nil || again != r1 {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	_, err = p.Refund(ctx, refund(ch.ProcessorRef, "rfd_1", 301))
	if !errors.Is(err, payments.ErrIdempotencyMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	// 701 is one more than is left.
	_, err = p.Refund(ctx, refund(ch.ProcessorRef, "rfd_2", 701))
	wantDecline(t, err, "invalid_request")
	if _, err := p.Refund(ctx, refund(ch.ProcessorRef, "rfd_2", 700)); err != nil {
		t.Fatal(err)
	}
	_, err = p.Refund(ctx, refund(ch.ProcessorRef, "rfd_3", 1))
	wantDecline(t, err, "invalid_request")

	got := ledger(t, p, "pur_r/")
	if len(got) != 1 || got[0].Refunded != 1000 {
		t.Fatalf("ledger %+v", got)
	}
	refunds, err := p.Refunds(ctx, "rfd_")
	if err != nil || len(refunds) != 2 || refunds[0].Amount+refunds[1].Amount != 1000 {
		t.Fatalf("refunds %+v, %v", refunds, err)
	}
}

func TestRefundRefusals(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	ok, err := p.Charge(ctx, charge(cus, "pm_card_visa", "ok", 1000))
	if err != nil {
		t.Fatal(err)
	}
	failed, err := p.Charge(ctx, charge(cus, "pm_card_chargeDeclined", "failed", 1000))
	wantDecline(t, err, "card_declined")
	for name, in := range map[string]payments.RefundInput{
		"declined charge": refund(failed.ProcessorRef, "r1", 100),
		"unknown charge":  refund("ch_sb_nope", "r2", 100),
		"zero":            refund(ok.ProcessorRef, "r3", 0),
		"no key":          refund(ok.ProcessorRef, "", 100),
		"other currency":  {IdempotencyKey: "r4", ChargeRef: ok.ProcessorRef, Amount: 100, Currency: "EUR"},
	} {
		_, err := p.Refund(ctx, in)
		wantDeclineNamed(t, name, err, "invalid_request")
	}
	if refunds, _ := p.Refunds(ctx, ""); len(refunds) != 0 {
		t.Fatalf("refusals recorded: %+v", refunds)
	}
}

func wantDeclineNamed(t *testing.T, name string, err error, code string) {
	t.Helper()
	if d, ok := payments.IsDecline(err); !ok || d.Code != code {
		t.Errorf("%s: want decline %s, got %v", name, code, err)
	}
}

func TestConcurrentRefundsNeverExceedTheCharge(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	ch, err := p.Charge(ctx, charge(cus, "pm_card_visa", "pur_cr/period-1/charge", 1000))
	if err != nil {
		t.Fatal(err)
	}
	// 20 refunds of 100 with distinct keys, and 20 with one shared key, all at once: exactly 10
	// can fit in 1000, and the shared key is at most one of them.
	var succeeded, declined atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 40 {
		key := fmt.Sprintf("rfd_%d", i)
		if i >= 20 {
			key = "rfd_shared"
		}
		wg.Go(func() {
			<-start
			_, err := p.Refund(ctx, refund(ch.ProcessorRef, key, 100))
			switch _, isDecline := payments.IsDecline(err); {
			case err == nil:
				succeeded.Add(1)
			case isDecline:
				declined.Add(1)
			default:
				t.Errorf("refund %s: %v", key, err)
			}
		})
	}
	close(start)
	wg.Wait()
	refunds, err := p.Refunds(ctx, "rfd_")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	shared := 0
	for _, r := range refunds {
		total += r.Amount
		if r.IdempotencyKey == "rfd_shared" {
			shared++
		}
	}
	if total != 1000 || len(refunds) != 10 || shared > 1 {
		t.Fatalf("%d refunds totalling %d (%d shared); %d calls succeeded, %d declined",
			len(refunds), total, shared, succeeded.Load(), declined.Load())
	}
}

// Like Stripe, the sandbox refunds a card payment for 180 days and then refuses with
// charge_expired_for_refund, counting on the customer's clock (a test clock runs ahead): both
// the charge and the refund carry their time on it. A refund made in time answers again later.
func TestRefundWindowOnTheCustomersClock(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	at := time.Now().Add(400 * 24 * time.Hour).UTC() // a test clock well ahead of real time
	in := charge(cus, "pm_card_visa", "pur_w/period-1/charge", 1000)
	in.At = at
	ch, err := p.Charge(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	late := refund(ch.ProcessorRef, "rfd_late", 100)
	late.At = at.Add(domain.RefundWindow + time.Hour)
	_, err = p.Refund(ctx, late)
	wantDecline(t, err, payments.CodeChargeExpiredForRefund)
	inTime := refund(ch.ProcessorRef, "rfd_in_time", 100)
	inTime.At = at.Add(domain.RefundWindow - time.Hour)
	first, err := p.Refund(ctx, inTime)
	if err != nil {
		t.Fatalf("a refund inside the window: %v", err)
	}
	inTime.At = late.At
	if again, err := p.Refund(ctx, inTime); err != nil || again != first {
		t.Fatalf("the same refund asked again after the window: %+v, %v", again, err)
	}
	if got := ledger(t, p, "pur_w/"); len(got) != 1 || got[0].Refunded != 100 {
		t.Fatalf("ledger %+v", got)
	}
}

// A charge of the refund-failing card (4000 0000 0000 5126) succeeds, and every refund of it is
// refused: nothing is refunded.
func TestRefundOfTheRefundFailingCardIsRefused(t *testing.T) {
	p, cus := newSandbox(t)
	ctx := context.Background()
	ch, err := p.Charge(ctx, charge(cus, "pm_card_refundFail", "pur_rf/period-1/charge", 1000))
	if err != nil || ch.Status != payments.PaymentSucceeded {
		t.Fatalf("charge: %+v, %v", ch, err)
	}
	_, err = p.Refund(ctx, refund(ch.ProcessorRef, "rfd_rf", 1000))
	wantDecline(t, err, "refund_failed")
	refunds, err := p.Refunds(ctx, "rfd_rf")
	if err != nil || len(refunds) != 0 {
		t.Fatalf("refunds made: %v, %v", refunds, err)
	}
	// the same card typed in and attached (a pm_sb_ card of the ledger) answers the same way,
	// and a card that refunds does refund
	for card, want := range map[string]string{"4000 0000 0000 5126": "refund_failed", "4242 4242 4242 4242": ""} {
		pm := attach(t, p, cus, card).PaymentMethod
		ch, err := p.Charge(ctx, charge(cus, pm, "pur_rf/"+pm+"/charge", 1000))
		if err != nil || ch.Status != payments.PaymentSucceeded {
			t.Fatalf("charge of %s: %+v, %v", card, ch, err)
		}
		_, err = p.Refund(ctx, refund(ch.ProcessorRef, "rfd_"+pm, 1000))
		if want != "" {
			wantDecline(t, err, want)
		} else if err != nil {
			t.Fatalf("refund of %s: %v", card, err)
		}
	}
}
