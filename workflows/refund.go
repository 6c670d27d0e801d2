package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// A payment refunds for as long as the processor accepts it (domain.RefundWindow, 180 days),
// which can be long after its purchase's workflow has closed (30 days after the purchase ended,
// EndedRetention). A refund of such a payment runs in a short workflow of its own: one per
// refund request (RefundWorkflowID), so a retried request joins the running one or gets the
// result of the finished one. It makes the refund under the same key as the purchase's workflow
// would (RefundKey) with the same activity, which the starter's records allow for this purchase
// only (terms.go), and records it on the purchase: an ended purchase has no status left to
// change, so only its refunded total and audit log move.

// PaymentRefundInput starts a refund workflow.
type PaymentRefundInput struct {
	MerchantRef string
	PurchaseRef string
	CustomerRef string
	ProductRef  string
	Currency    string
	// Terms is the digest of the purchase's terms as the starter recorded them.
	Terms string
	// ClockOffset is how far the purchase's test clock had run ahead (sandbox purchases): the
	// refund window counts on the purchase's clock.
	ClockOffset time.Duration `json:",omitempty"`
	// Request is the refund asked for; TransactionRef is required.
	Request RefundInput
}

// PaymentRefund is the refund workflow.
func PaymentRefund(ctx workflow.Context, in PaymentRefundInput) (RefundResult, error) {
	r := in.Request
	switch {
	case r.RequestKey == "":
		return RefundResult{}, refuse(domain.CodeMissingField, "requestKey", "a refund needs a request key (the Idempotency-Key)")
	case r.TransactionRef == "":
		return RefundResult{}, refuse(domain.CodeMissingField, "sourceTransactionRef", "a refund needs the payment to refund")
	}
	out, err := refundPayment(ctx, RefundPaymentInput{MerchantRef: in.MerchantRef, PurchaseRef: in.PurchaseRef,
		CustomerRef: in.CustomerRef, ProductRef: in.ProductRef, SourceTxnRef: r.TransactionRef, Amount: r.Amount,
		Currency: in.Currency, IdempotencyKey: RefundKey(in.PurchaseRef, r.RequestKey), Reason: r.Reason, Terms: in.Terms,
		Request: r, At: workflow.Now(ctx).Add(in.ClockOffset).UTC(), OnClosedPurchase: true})
	if err != nil {
		return RefundResult{}, refundRefusal(err)
	}
	return RefundResult{TransactionRef: out.TxnRef, SourceRef: r.TransactionRef, Amount: out.Amount}, nil
}
