package api

import (
	"cmp"
	"errors"
	"net/http"
	"strings"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// paymentMethodView is seed 003's { kind: 'card', brand, last4, expMonth, expYear } or
// { kind: 'none' }, read from our database with no processor round-trip.
type paymentMethodView struct {
	Kind        string `json:"kind"`
	CustomerRef string `json:"customerRef"`
	Brand       string `json:"brand,omitempty"`
	Last4       string `json:"last4,omitempty"`
	ExpMonth    int    `json:"expMonth,omitempty"`
	ExpYear     int    `json:"expYear,omitempty"`
}

func toPaymentMethodView(c domain.Customer) paymentMethodView {
	if c.Card == nil {
		return paymentMethodView{Kind: "none", CustomerRef: c.Ref}
	}
	return paymentMethodView{Kind: "card", CustomerRef: c.Ref, Brand: c.Card.Brand, Last4: c.Card.Last4,
		ExpMonth: c.Card.ExpMonth, ExpYear: c.Card.ExpYear}
}

// getSDKPaymentMethod answers GET /v1/sdk/payment-method?customerRef=….
func (s *Server) getSDKPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	ref, err := queryAlias(r, "customerRef", "customerId")
	if err != nil {
		return err
	}
	c, err := s.customerIn(r.Context(), merchantOf(r), ref, "customerRef")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPaymentMethodView(c))
	return nil
}

type paymentMethodInput struct {
	PaymentMethod string `json:"paymentMethod"`
}

// setPaymentMethod attaches a payment method (pm_… or, in the sandbox, a test card number) to
// the customer at the processor of the key's mode and makes it the default that activate-plan
// and renewals charge.
func (s *Server) setPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	var in paymentMethodInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	in.PaymentMethod = strings.TrimSpace(in.PaymentMethod)
	if err := required("paymentMethod", in.PaymentMethod); err != nil {
		return err
	}
	if err := maxLen("paymentMethod", in.PaymentMethod, 255); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	c, err := s.store.GetCustomer(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	pay, err := s.processor(r)
	if err != nil {
		return err
	}
	existing, err := s.store.ProcessorCustomerID(ctx, merchant, c.Ref)
	if err != nil {
		return err
	}
	pcus, err := pay.EnsureCustomer(ctx, payments.CustomerInput{MerchantRef: merchant, CustomerRef: c.Ref,
		Email: c.Email, Name: c.Name, ExistingID: existing})
	if err != nil {
		return processorError(err)
	}
	card, err := pay.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: pcus, PaymentMethod: in.PaymentMethod})
	if err != nil {
		return processorError(err)
	}
	dc := domain.Card{PaymentMethod: card.PaymentMethod, Brand: card.Brand, Last4: card.Last4, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear}
	if err := s.store.SetPaymentMethod(ctx, merchant, c.Ref, dc, pcus); err != nil {
		return err
	}
	c.Card = &dc
	writeJSON(w, http.StatusOK, toPaymentMethodView(c))
	return nil
}

// processorError turns an invalid payment method into 400 and a decline into 402, naming the
// field; other failures pass through
// (a network fault is the processor's, answered as 5xx so the client retries).
func processorError(err error) error {
	if d, ok := payments.IsDecline(err); ok {
		if d.Code == "invalid_request" || d.Code == "invalid_number" {
			return domain.Errorf(domain.CodeInvalidField, "paymentMethod", "%s", d.Message)
		}
		return domain.Errorf(domain.CodePaymentRequired, "paymentMethod", "%s (%s)", d.Message, d.Code)
	}
	if errors.Is(err, payments.ErrIdempotencyMismatch) {
		return domain.Errorf(domain.CodeConflict, "", "%v", err)
	}
	return err
}

// processor is the processor that moves the money of the request key's mode: the sandbox for a
// sandbox key, whatever this deployment is configured with; Stripe for a live key, and 503 on
// a deployment without it (live money never settles in the sandbox).
func (s *Server) processor(r *http.Request) (payments.Processor, error) {
	p, _, err := s.processorAndKey(r)
	return p, err
}

// processorAndKey is processor, with the publishable key of its pages: the merchant's own
// Stripe account's (processors.Accounts) when it has one, else the deployment's.
func (s *Server) processorAndKey(r *http.Request) (payments.Processor, string, error) {
	p, publishable, err := s.modes.ForMerchant(r.Context(), merchantOf(r), keyOf(r).Sandbox())
	var pe *payments.ProcessorError
	if errors.As(err, &pe) { // the merchant's own Stripe key cannot be opened here: the operator's to fix
		s.logFor(r).Error("payments: the merchant's own Stripe account cannot be used", "merchant", merchantOf(r), "err", err)
		return nil, "", domain.Errorf(domain.CodeUnavailable, "", "this merchant's Stripe account is not available on this server; retry later")
	} else if err != nil {
		return nil, "", domain.Errorf(domain.CodeUnavailable, "", "%v", err)
	}
	if p == nil {
		return nil, "", domain.Errorf(domain.CodeUnavailable, "", "no payment processor is configured")
	}
	return p, cmp.Or(publishable, s.cfg.StripePublishableKey), nil
}
