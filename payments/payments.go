// Package payments puts every payment processor behind one interface. Implementations live in
// payments/sandbox (the default: deterministic, Stripe's test cards, ledger in Postgres) and
// payments/stripe (stripe-go/v76).
package payments

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Processor moves money. Every call that moves money carries an idempotency key derived from
// business data; the same key must return the same result and never move money twice.
type Processor interface {
	// Name is "sandbox" or "stripe".
	Name() string
	// EnsureCustomer returns the processor's customer id for our customer, creating it once.
	EnsureCustomer(ctx context.Context, in CustomerInput) (string, error)
	// AttachPaymentMethod attaches pm (e.g. pm_card_visa or a card number in the sandbox) to the
	// processor customer and returns the card as people see it. A card that cannot attach is a
	// *DeclineError.
	AttachPaymentMethod(ctx context.Context, in AttachInput) (Card, error)
	// Charge takes an off-session, confirmed payment. A decline is a *DeclineError (not retryable).
	Charge(ctx context.Context, in ChargeInput) (ChargeResult, error)
	// FindCharge looks up the charge made under an idempotency key, with no help from the
	// processor's memory of keys (Stripe forgets a key after about 24 hours and then charges
	// again under it). found is false when no charge carries the key. A charge that was
	// declined answers as Charge would: its result beside a *DeclineError.
	FindCharge(ctx context.Context, in FindChargeInput) (res ChargeResult, found bool, err error)
	// Refund returns money of an earlier charge.
	Refund(ctx context.Context, in RefundInput) (RefundResult, error)
}

type CustomerInput struct {
	MerchantRef string
	CustomerRef string
	Email       string
	Name        string
	ExistingID  string // the processor id already stored on the customer, if any
}

type AttachInput struct {
	ProcessorCustomerID string
	PaymentMethod       string // pm_… id, or in the sandbox a test card number
}

type Card struct {
	PaymentMethod string // the id to charge later
	Brand         string
	Last4         string
	ExpMonth      int
	ExpYear       int
}

type ChargeInput struct {
	IdempotencyKey      string // e.g. pur_x/period-3/charge
	ProcessorCustomerID string
	PaymentMethod       string
	Amount              int64 // minor units, > 0
	Currency            string
	Description         string
	Metadata            map[string]string
	// At is the charge's time on the customer's clock: a sandbox purchase's test clock runs ahead
	// of real time, and the sandbox counts its refund window from it (zero: now). Stripe keeps
	// its own clock.
	At time.Time
}

// FindChargeInput names a charge by our key and the customer it was made for.
type FindChargeInput struct {
	IdempotencyKey      string
	ProcessorCustomerID string
}

type ChargeResult struct {
	ProcessorRef string // ch_/pi_ id
	Status       string // succeeded
}

type RefundInput struct {
	IdempotencyKey string
	ChargeRef      string // ChargeResult.ProcessorRef of the payment refunded
	Amount         int64
	Currency       string
	Reason         string
	// At is now on the customer's clock (ChargeInput.At); zero is now. A charge older than
	// domain.RefundWindow is refused with CodeChargeExpiredForRefund.
	At time.Time
}

// CodeChargeExpiredForRefund is Stripe's code for a refund asked after its window (180 days
// for card payments); the sandbox refuses with it too. It comes as a *DeclineError.
const CodeChargeExpiredForRefund = "charge_expired_for_refund"

type RefundResult struct {
	ProcessorRef string
	Status       string
}

// CodeAuthenticationRequired is the decline code of an off-session payment the customer's bank
// wants authenticated (3-D Secure): not a plain decline. The payment stays open at the
// processor, and the customer completes it on session (Authenticator), which pays it.
const CodeAuthenticationRequired = "authentication_required"

// DeclineError is a card decline or an invalid request: retrying the same call cannot succeed.
type DeclineError struct {
	Code    string // card_declined, insufficient_funds, invalid_request, …
	Message string // for people: "Your card was declined."
}

func (e *DeclineError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// IsDecline reports whether err is a *DeclineError.
func IsDecline(err error) (*DeclineError, bool) {
	var d *DeclineError
	ok := errors.As(err, &d)
	return d, ok
}

// ProcessorError is a failure the processor reported that is neither a decline nor an answer
// about the payment: a rejected key or account (401, 403), its own fault (5xx), a rate limit.
// Status is the HTTP status. Whether money moved is unknown for a 5xx: look the charge up.
type ProcessorError struct {
	Status  int
	Message string
}

func (e *ProcessorError) Error() string {
	return fmt.Sprintf("processor answered %d: %s", e.Status, e.Message)
}

// IsConfiguration reports whether the processor refused our credentials or account: an
// operator's problem, never the customer's.
func (e *ProcessorError) IsConfiguration() bool { return e.Status == 401 || e.Status == 403 }

// ErrIdempotencyMismatch: the same key was used before with other parameters.
var ErrIdempotencyMismatch = errors.New("idempotency key reused with different parameters")

// PaymentFacts is what the processor knows about one payment now: its status, the refunds of it
// and the disputes over it. Webhook handlers act on these, refetched, never on the event's copy,
// so events delivered late, twice or out of order reach the same state.
type PaymentFacts struct {
	PaymentRef  string // the id a ChargeResult carried (pi_… at Stripe, ch_sb_… in the sandbox)
	Status      string // PaymentSucceeded, PaymentProcessing, PaymentFailed, or the processor's own word
	FailureCode string // for PaymentFailed: card_declined, insufficient_funds, …
	Amount      int64
	Currency    string
	// Key is the idempotency key Tollgate charged under (its metadata); empty for a payment
	// Tollgate did not make.
	Key      string
	Refunds  []RefundFacts
	Disputes []DisputeFacts
}

// Payment statuses of PaymentFacts and ChargeResult.
const (
	PaymentSucceeded  = "succeeded"
	PaymentProcessing = "processing" // accepted, not settled: not paid until it succeeds
	PaymentFailed     = "failed"
	// AuthenticationPending: the payment waits for the customer to authenticate it (3-D Secure).
	AuthenticationPending = "requires_action"
)

// RefundFacts is one refund of a payment, made by Tollgate or elsewhere (the dashboard).
type RefundFacts struct {
	ID     string // re_…
	Amount int64
	Status string // succeeded, pending, failed, canceled
	Key    string // the idempotency key Tollgate refunded under; empty for a refund made elsewhere
}

// DisputeFacts is one dispute (chargeback) over a payment.
type DisputeFacts struct {
	ID     string // dp_…
	Amount int64
	Status string // needs_response, under_review, won, lost, warning_…
}

// Closed reports whether the dispute has its outcome: won, lost, or an inquiry closed.
func (d DisputeFacts) Closed() bool {
	return d.Status == "won" || d.Status == "lost" || d.Status == "warning_closed"
}

// PaymentLookup refetches a payment from the processor. ref is a ChargeResult.ProcessorRef,
// or at Stripe a charge id (ch_…), which answers for its PaymentIntent. An unknown payment is a
// *DeclineError with code resource_missing.
type PaymentLookup interface {
	LookupPayment(ctx context.Context, ref string) (PaymentFacts, error)
}

// Authenticator tells a hosted page how to complete, on session, a payment that asked for
// authentication (3-D Secure) off session: the same payment, so completing it never charges
// twice.
type Authenticator interface {
	// PaymentAuthentication answers payment ref's status (AuthenticationPending,
	// PaymentSucceeded, PaymentProcessing or PaymentFailed) and, at Stripe, the PaymentIntent's
	// client secret and card, with which Stripe.js confirms it in the customer's browser.
	PaymentAuthentication(ctx context.Context, ref string) (AuthenticationFacts, error)
}

// AuthenticationFacts is what a page needs to complete a payment that asked for authentication.
type AuthenticationFacts struct {
	Status        string
	ClientSecret  string `json:"-"` // Stripe's pi_…_secret_…: for the customer's browser only
	PaymentMethod string
}

// SessionConfirmer sets a card up with the customer present (3-D Secure at checkout): the
// customer's bank may ask to authenticate, which the customer's browser completes (Stripe.js at
// Stripe, the sandbox's authentication page in the sandbox) before the purchase starts. The card
// is then set up for the off-session charges that follow (a SetupIntent, usage=off_session).
type SessionConfirmer interface {
	ConfirmOnSession(ctx context.Context, in OnSessionInput) (OnSessionResult, error)
	// OnSessionOutcome refetches a setup by its Ref, after the customer's browser completed (or
	// failed) the authentication.
	OnSessionOutcome(ctx context.Context, ref string) (OnSessionResult, error)
}

// OnSessionInput is a card to set up with the customer present.
type OnSessionInput struct {
	IdempotencyKey      string // e.g. <purchase>/period-1/charge; the processor's key adds /setup
	ProcessorCustomerID string
	PaymentMethod       string
	Metadata            map[string]string
}

// OnSessionResult is where a setup stands.
type OnSessionResult struct {
	Ref          string // seti_… at Stripe, seti_sb_… in the sandbox
	Status       string // PaymentSucceeded, PaymentProcessing, AuthenticationPending or PaymentFailed
	ClientSecret string `json:"-"` // for the customer's browser only (Stripe.js)
	FailureCode  string // for PaymentFailed
	Message      string // for PaymentFailed, for people
}
