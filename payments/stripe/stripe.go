// Package stripe is the payments.Processor on Stripe (stripe-go/v76): customers, payment
// methods, off-session confirmed PaymentIntents and refunds, every money call carrying our own
// idempotency key, plus webhook signature verification.
package stripe

import (
	"context"
	"fmt"
	"net/http"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/payments"
)

// Config says how to reach Stripe.
type Config struct {
	SecretKey string // sk_live_… or sk_test_…
	// BackendURL overrides https://api.stripe.com, e.g. to point tests at stripe-mock.
	BackendURL string
	// HTTPClient replaces stripe-go's client (timeouts, a recording transport in tests).
	HTTPClient *http.Client
	// MaxNetworkRetries caps stripe-go's own retries of one call; nil keeps its default (2).
	// They are safe because every write carries an idempotency key.
	MaxNetworkRetries *int64
}

// Processor implements payments.Processor with a *client.API of its own, never stripe-go's
// package-level globals, so two processors (or tests) never share a key or backend.
type Processor struct {
	api *client.API
}

var _ payments.Processor = (*Processor)(nil)

// New returns a Stripe processor.
func New(cfg Config) *Processor {
	backend := func(kind stripego.SupportedBackend) stripego.Backend {
		bc := &stripego.BackendConfig{
			HTTPClient:        telemetry.Client(cfg.HTTPClient), // a client span per call when tracing is on
			MaxNetworkRetries: cfg.MaxNetworkRetries,
			// Errors are returned to the caller, who logs them with the purchase in context.
			LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
		}
		if cfg.BackendURL != "" {
			bc.URL = stripego.String(cfg.BackendURL)
		}
		return stripego.GetBackendWithConfig(kind, bc)
	}
	return &Processor{api: client.New(cfg.SecretKey, &stripego.Backends{
		API:     backend(stripego.APIBackend),
		Connect: backend(stripego.ConnectBackend),
		Uploads: backend(stripego.UploadsBackend),
	})}
}

// Name is "stripe".
func (p *Processor) Name() string { return "stripe" }

// EnsureCustomer creates the Stripe customer once: the idempotency key is our customer's
// reference, so a retried call within Stripe's 24-hour key window returns the same customer.
// Later calls pass the id we stored (ExistingID) and make no request at all.
func (p *Processor) EnsureCustomer(ctx context.Context, in payments.CustomerInput) (string, error) {
	if in.ExistingID != "" {
		return in.ExistingID, nil
	}
	if in.CustomerRef == "" {
		return "", invalid("customer reference is required")
	}
	params := &stripego.CustomerParams{
		Metadata: map[string]string{"tollgate_customer_ref": in.CustomerRef, "tollgate_merchant_ref": in.MerchantRef},
	}
	if in.Email != "" {
		params.Email = stripego.String(in.Email)
	}
	if in.Name != "" {
		params.Name = stripego.String(in.Name)
	}
	params.Context = ctx
	params.IdempotencyKey = stripego.String("cus:" + in.CustomerRef)
	c, err := p.api.Customers.New(params)
	if err != nil {
		return "", mapError("create customer", err)
	}
	return c.ID, nil
}

// AttachPaymentMethod attaches the payment method to the customer and makes it the default for
// invoices, then answers the card as people see it.
func (p *Processor) AttachPaymentMethod(ctx context.Context, in payments.AttachInput) (payments.Card, error) {
	if in.ProcessorCustomerID == "" || in.PaymentMethod == "" {
		return payments.Card{}, invalid("a customer and a payment method are required")
	}
	attach := &stripego.PaymentMethodAttachParams{Customer: stripego.String(in.ProcessorCustomerID)}
	attach.Context = ctx
	// Attaching is the same act every time, so a key derived from it is safe to replay.
	attach.IdempotencyKey = stripego.String("attach:" + in.PaymentMethod + ":" + in.ProcessorCustomerID)
	pm, err := p.api.PaymentMethods.Attach(in.PaymentMethod, attach)
	if err != nil {
		return payments.Card{}, mapError("attach payment method", err)
	}

	// No derived key here: a customer may switch A → B → A within a day, and a replayed
	// "set default A" would then answer without making A the default again. Setting a default
	// is idempotent by nature; stripe-go's per-call key covers its own network retries.
	update := &stripego.CustomerParams{InvoiceSettings: &stripego.CustomerInvoiceSettingsParams{
		DefaultPaymentMethod: stripego.String(pm.ID),
	}}
	update.Context = ctx
	if _, err := p.api.Customers.Update(in.ProcessorCustomerID, update); err != nil {
		return payments.Card{}, mapError("set default payment method", err)
	}

	card := payments.Card{PaymentMethod: pm.ID}
	if pm.Card != nil {
		card.Brand = string(pm.Card.Brand)
		card.Last4 = pm.Card.Last4
		card.ExpMonth = int(pm.Card.ExpMonth)
		card.ExpYear = int(pm.Card.ExpYear)
	} else {
		card.Brand = string(pm.Type)
	}
	return card, nil
}

func invalid(format string, args ...any) *payments.DeclineError {
	return &payments.DeclineError{Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}
