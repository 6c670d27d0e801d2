package testenv

import (
	"context"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/store"
)

// AttachCard gives a customer a default card in the steps the API's payment-method endpoint
// takes: the processor's customer, the card attached there, the card stored on the customer.
// card is a sandbox test card number or a pm_ id. It returns an error rather than taking a
// testing.TB so that code seeding many customers outside a test can call it too.
func AttachCard(ctx context.Context, st *store.Store, p payments.Processor, merchant, customerRef, card string) (domain.Card, error) {
	pcus, err := p.EnsureCustomer(ctx, payments.CustomerInput{MerchantRef: merchant, CustomerRef: customerRef})
	if err != nil {
		return domain.Card{}, err
	}
	pm, err := p.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: pcus, PaymentMethod: card})
	if err != nil {
		return domain.Card{}, err
	}
	c := domain.Card{PaymentMethod: pm.PaymentMethod, Brand: pm.Brand, Last4: pm.Last4, ExpMonth: pm.ExpMonth, ExpYear: pm.ExpYear}
	return c, st.SetPaymentMethod(ctx, merchant, customerRef, c, pcus)
}
