// Package sandbox is Tollgate's in-house payment processor: deterministic, following Stripe's
// test cards, with its own ledger in Postgres so the whole lifecycle — declines, dunning,
// refunds — plays on a laptop and tests can check what the "processor" really did.
//
// Outcomes depend only on the card and the ledger, so a replayed activity sees the same answers.
// Time enters twice, as at Stripe: an idempotency key is forgotten after a window of real time,
// and a charge refunds for 180 days counted on the customer's clock, which the caller sends
// (ChargeInput.At, RefundInput.At) so a sandbox test clock moves it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// Processor implements payments.Processor on the sandbox ledger tables.
type Processor struct {
	pool *pgxpool.Pool
	// KeyWindow is how long a charge's idempotency key is remembered (zero: DefaultKeyWindow).
	// Used again after that, the key makes a new charge, as at Stripe.
	KeyWindow time.Duration
	// DisputeAfter is how long after a charge of the disputed card (4000 0000 0000 0259) its
	// dispute opens (zero: DefaultDisputeAfter).
	DisputeAfter time.Duration
	// webhooks sends the outcomes the sandbox makes on its own (SetWebhooks).
	webhooks atomic.Pointer[Webhooks]
}

// DefaultKeyWindow is Stripe's: keys are pruned once they are at least 24 hours old.
const DefaultKeyWindow = 24 * time.Hour

var _ payments.Processor = (*Processor)(nil)

// New returns a sandbox processor keeping its ledger in pool's database.
func New(pool *pgxpool.Pool) *Processor { return &Processor{pool: pool} }

// Name is "sandbox".
func (p *Processor) Name() string { return "sandbox" }

// Id prefixes of the sandbox's own objects, shaped like Stripe's so logs read the same.
const (
	customerPrefix = "cus_sb_"
	pmPrefix       = "pm_sb_"
	chargePrefix   = "ch_sb_"
	refundPrefix   = "re_sb_"
)

// EnsureCustomer derives the sandbox customer id from our reference, so "creating it once"
// needs no state: every call for one customer answers the same id.
func (p *Processor) EnsureCustomer(ctx context.Context, in payments.CustomerInput) (string, error) {
	if in.ExistingID != "" {
		return in.ExistingID, nil
	}
	if in.CustomerRef == "" {
		return "", invalid("customer reference is required")
	}
	return customerPrefix + strings.TrimPrefix(in.CustomerRef, domain.PrefixCustomer+"_"), nil
}

// AttachPaymentMethod accepts a test card number, one of Stripe's test PaymentMethod ids, or a
// pm_sb_ id attached earlier. Numbers and test ids get a new pm_sb_ id whose behaviour is kept
// in the ledger. Like Stripe, the declining cards (…0002, …9995) are refused here; …0341
// attaches and fails later.
func (p *Processor) AttachPaymentMethod(ctx context.Context, in payments.AttachInput) (payments.Card, error) {
	if in.ProcessorCustomerID == "" {
		return payments.Card{}, invalid("a customer is required to attach a payment method")
	}
	if strings.HasPrefix(in.PaymentMethod, pmPrefix) {
		pm, err := p.paymentMethod(ctx, in.PaymentMethod)
		if err != nil {
			return payments.Card{}, err
		}
		if pm.customerID != in.ProcessorCustomerID {
			return payments.Card{}, invalid("payment method %s is attached to another customer", pm.id)
		}
		return pm.card(), nil
	}
	card, ok := cardsByPM[in.PaymentMethod]
	if !ok {
		number, isNumber := cardNumber(in.PaymentMethod)
		if !isNumber {
			return payments.Card{}, invalid("no such payment method: %q", in.PaymentMethod)
		}
		if card, ok = cardsByNumber[number]; !ok {
			return payments.Card{}, &payments.DeclineError{Code: "invalid_number",
				Message: "Your card number is not a test card; the sandbox accepts Stripe's test cards only."}
		}
	}
	if d := card.behaviour.attachDecline(); d != nil {
		return payments.Card{}, d
	}
	pm := paymentMethod{
		id: domain.NewRef(strings.TrimSuffix(pmPrefix, "_")), customerID: in.ProcessorCustomerID,
		behaviour: card.behaviour, brand: card.brand, last4: card.last4(),
		expMonth: cardExpMonth, expYear: cardExpYear,
	}
	_, err := p.pool.Exec(ctx, `
		INSERT INTO sandbox_payment_methods (id, customer_id, behaviour, brand, last4, exp_month, exp_year)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		pm.id, pm.customerID, pm.behaviour, pm.brand, pm.last4, pm.expMonth, pm.expYear)
	if err != nil {
		return payments.Card{}, fmt.Errorf("sandbox: attach payment method: %w", err)
	}
	return pm.card(), nil
}

// paymentMethod is a row of sandbox_payment_methods.
type paymentMethod struct {
	id, customerID    string
	behaviour         Behaviour
	brand, last4      string
	expMonth, expYear int
}

func (pm paymentMethod) card() payments.Card {
	return payments.Card{PaymentMethod: pm.id, Brand: pm.brand, Last4: pm.last4, ExpMonth: pm.expMonth, ExpYear: pm.expYear}
}

// querier reads a row: the pool, or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (p *Processor) paymentMethod(ctx context.Context, id string) (paymentMethod, error) {
	return paymentMethodIn(ctx, p.pool, id)
}

func paymentMethodIn(ctx context.Context, db querier, id string) (paymentMethod, error) {
	pm := paymentMethod{id: id}
	err := db.QueryRow(ctx, `
		SELECT customer_id, behaviour, brand, last4, exp_month, exp_year
		FROM sandbox_payment_methods WHERE id = $1`, id).
		Scan(&pm.customerID, &pm.behaviour, &pm.brand, &pm.last4, &pm.expMonth, &pm.expYear)
	if errors.Is(err, pgx.ErrNoRows) {
		return pm, invalid("no such payment method: %q", id)
	}
	if err != nil {
		return pm, fmt.Errorf("sandbox: read payment method: %w", err)
	}
	return pm, nil
}

// clockTime is a time on the customer's clock for Postgres: nil (now) when zero.
func clockTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// invalid is Stripe's invalid_request_error: the same call can never succeed, so not retryable.
func invalid(format string, args ...any) *payments.DeclineError {
	return &payments.DeclineError{Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}
