package sandbox

import (
	"strings"

	"github.com/tollgate-billing/tollgate/payments"
)

// Behaviour is how a sandbox card answers, fixed when it is attached and kept in the ledger so
// later charges answer the same way on any worker.
type Behaviour string

const (
	BehaviourSucceeds          Behaviour = "succeeds"
	BehaviourDeclines          Behaviour = "card_declined"      // refused at attach, declines every charge
	BehaviourInsufficientFunds Behaviour = "insufficient_funds" // refused at attach, declines every charge
	BehaviourFailsAfterAttach  Behaviour = "fails_after_attach" // attaches, then declines every charge
	// BehaviourServerErrorAfterCharge is a fault, not a card: every charge is made, then
	// answered 500 (and replayed as 500 while its key is remembered). Set with SetCardBehaviour.
	BehaviourServerErrorAfterCharge Behaviour = "server_error_after_charge"
	// BehaviourAuthenticationRequired (4000 0027 6000 3184): the bank asks the customer to
	// authenticate every payment (3-D Secure). An off-session charge is left open, declined with
	// authentication_required, until the customer approves it on the sandbox's authentication
	// page (Authenticate).
	BehaviourAuthenticationRequired Behaviour = "authentication_required"
	// BehaviourAuthenticationAtSetup (4000 0025 0000 3155): the bank asks once, when the card is
	// set up; off-session charges of the card set up then succeed.
	BehaviourAuthenticationAtSetup Behaviour = "authentication_at_setup"
	// BehaviourProcessing (4000 0000 0000 7726, the sandbox's own: Stripe's cards settle at
	// once): every charge is accepted but not settled, processing, until it is settled
	// succeeded or failed (Settle), as a bank debit is at Stripe.
	BehaviourProcessing Behaviour = "processing"
	// BehaviourDisputed (4000 0000 0000 0259): every charge succeeds, and a dispute (fraudulent,
	// the whole amount) opens over it shortly after, as Stripe's test card does
	// (Processor.SetWebhooks sends its charge.dispute.created).
	BehaviourDisputed Behaviour = "disputed"
	// BehaviourRefundFails (4000 0000 0000 5126, pm_card_refundFail): every charge succeeds and
	// every refund of it fails (refund_failed). Stripe fails such a refund a moment after
	// accepting it; the sandbox refuses it at once, as Tollgate's Stripe processor reports a
	// refund Stripe answers failed.
	BehaviourRefundFails Behaviour = "refund_fails"
)

func (b Behaviour) valid() bool {
	switch b {
	case BehaviourSucceeds, BehaviourDeclines, BehaviourInsufficientFunds, BehaviourFailsAfterAttach,
		BehaviourServerErrorAfterCharge, BehaviourAuthenticationRequired, BehaviourAuthenticationAtSetup,
		BehaviourProcessing, BehaviourDisputed, BehaviourRefundFails:
		return true
	}
	return false
}

// attachDecline is the refusal Stripe gives when a card is checked on attach.
func (b Behaviour) attachDecline() *payments.DeclineError {
	switch b {
	case BehaviourDeclines, BehaviourInsufficientFunds:
		return b.chargeDecline()
	}
	return nil
}

// chargeDecline is the refusal of an off-session charge, nil when the charge succeeds.
func (b Behaviour) chargeDecline() *payments.DeclineError {
	switch b {
	case BehaviourDeclines, BehaviourFailsAfterAttach:
		return &payments.DeclineError{Code: "card_declined", Message: "Your card was declined."}
	case BehaviourInsufficientFunds:
		return &payments.DeclineError{Code: "insufficient_funds", Message: "Your card has insufficient funds."}
	case BehaviourAuthenticationRequired:
		return &payments.DeclineError{Code: payments.CodeAuthenticationRequired,
			Message: "Your bank asks you to authenticate this payment."}
	}
	return nil
}

// refundDecline is the refusal of a refund of a charge made with the card, nil when it refunds.
func (b Behaviour) refundDecline() *payments.DeclineError {
	if b == BehaviourRefundFails {
		return &payments.DeclineError{Code: "refund_failed", Message: "The refund failed: the card's bank did not accept it."}
	}
	return nil
}

// setupAsks reports whether setting the card up asks the customer to authenticate.
func (b Behaviour) setupAsks() bool {
	return b == BehaviourAuthenticationAtSetup || b == BehaviourAuthenticationRequired
}

// testCard is one of Stripe's documented test cards.
type testCard struct {
	number    string
	brand     string
	behaviour Behaviour
}

func (c testCard) last4() string { return c.number[len(c.number)-4:] }

// Every sandbox card expires on the same far-off date so outcomes never depend on the clock.
const (
	cardExpMonth = 12
	cardExpYear  = 2034
)

var (
	visa             = testCard{"4242424242424242", "visa", BehaviourSucceeds}
	mastercard       = testCard{"5555555555554444", "mastercard", BehaviourSucceeds}
	amex             = testCard{"378282246310005", "amex", BehaviourSucceeds}
	declined         = testCard{"4000000000000002", "visa", BehaviourDeclines}
	insufficient     = testCard{"4000000000009995", "visa", BehaviourInsufficientFunds}
	failsAfterAttach = testCard{"4000000000000341", "visa", BehaviourFailsAfterAttach}
	authAlways       = testCard{"4000002760003184", "visa", BehaviourAuthenticationRequired}
	authAtSetup      = testCard{"4000002500003155", "visa", BehaviourAuthenticationAtSetup}
	processing       = testCard{"4000000000007726", "visa", BehaviourProcessing}
	disputed         = testCard{"4000000000000259", "visa", BehaviourDisputed}
	refundFails      = testCard{"4000000000005126", "visa", BehaviourRefundFails}
)

// cardsByNumber are the card numbers a checkout page may type in.
var cardsByNumber = map[string]testCard{}

// cardsByPM are Stripe's test PaymentMethod ids, including the pm_card_visa_… aliases Stripe
// documents for the same cards.
var cardsByPM = map[string]testCard{
	"pm_card_visa":                                 visa,
	"pm_card_mastercard":                           mastercard,
	"pm_card_amex":                                 amex,
	"pm_card_chargeDeclined":                       declined,
	"pm_card_visa_chargeDeclined":                  declined,
	"pm_card_chargeDeclinedInsufficientFunds":      insufficient,
	"pm_card_visa_chargeDeclinedInsufficientFunds": insufficient,
	"pm_card_chargeCustomerFail":                   failsAfterAttach,
	"pm_card_authenticationRequired":               authAlways,
	"pm_card_authenticationRequiredOnSetup":        authAtSetup,
	"pm_card_sandbox_processing":                   processing,
	"pm_card_createDispute":                        disputed,
	"pm_card_refundFail":                           refundFails,
}

func init() {
	for _, c := range []testCard{visa, mastercard, amex, declined, insufficient, failsAfterAttach, authAlways, authAtSetup, processing, disputed, refundFails} {
		cardsByNumber[c.number] = c
	}
}

// cardNumber returns s without the spaces and dashes people type, and whether it is all digits.
func cardNumber(s string) (string, bool) {
	n := strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(n) < 12 || len(n) > 19 {
		return "", false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return n, true
}
