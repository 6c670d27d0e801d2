package api

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// refundInput is create_refund: the payment (in either spelling), the amount in minor units
// (omitted: everything not refunded yet) and a reason.
type refundInput struct {
	SourceTransactionRef string `json:"sourceTransactionRef"`
	SourceTransactionID  string `json:"sourceTransactionId"`
	Amount               *int64 `json:"amount"`
	Reason               string `json:"reason"`
	// KeepAccess keeps a fully refunded current period running (a goodwill refund).
	KeepAccess bool `json:"keepAccess"`
}

// refundAnswer carries the refund's own txn_ reference beside the payment it refunds.
type refundAnswer struct {
	Reference            string                `json:"reference"`
	SourceTransactionRef string                `json:"sourceTransactionRef"`
	Amount               int64                 `json:"amount"`
	Currency             string                `json:"currency"`
	Status               string                `json:"status"`
	Reason               string                `json:"reason,omitempty"`
	Full                 bool                  `json:"full"`
	PurchaseRef          string                `json:"purchaseRef"`
	PurchaseStatus       domain.PurchaseStatus `json:"purchaseStatus"`
	CreatedAt            time.Time             `json:"createdAt"`
}

func (in *refundInput) validate() (string, error) {
	source, err := alias("sourceTransactionRef", in.SourceTransactionRef, "sourceTransactionId", in.SourceTransactionID)
	if err != nil {
		return "", err
	}
	if err := required("sourceTransactionRef", source); err != nil {
		return "", err
	}
	if in.Amount != nil {
		if err := positiveAmount("amount", *in.Amount); err != nil {
			return "", err
		}
	}
	in.Reason = strings.TrimSpace(in.Reason)
	return source, maxLen("reason", in.Reason, 500)
}

// createRefund refunds a payment fully or partly through its purchase's workflow, which decides
// whether a full refund of the current period revokes access, or, once that workflow has closed,
// through a refund workflow of its own. The refund key is the Idempotency-Key when one is sent,
// else the request itself, so a retried request refunds once. A payment refunds while the
// processor accepts it: within domain.RefundWindow of the payment on the purchase's clock.
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) error {
	var in refundInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	source, err := in.validate()
	if err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	pay, err := s.store.GetTransaction(ctx, merchant, source)
	if err != nil {
		return inField(err, "sourceTransactionRef")
	}
	if pay.Kind != domain.TxnPayment || pay.Status != domain.TxnSucceeded || pay.PurchaseRef == "" {
		return domain.Errorf(domain.CodeInvalidField, "sourceTransactionRef",
			"transaction %s is a %s %s; only a succeeded payment can be refunded", pay.Ref, pay.Status, pay.Kind)
	}
	purchase, err := s.purchaseToAct(r, pay.PurchaseRef)
	if err != nil {
		return err
	}
	key := refundKey(r, pay, in)
	done, err := s.store.TransactionByKey(ctx, merchant, workflows.RefundKey(pay.PurchaseRef, key))
	if err == nil && done.Status == domain.TxnSucceeded {
		out := refundAnswerOf(done, pay) // this request, made before
		out.PurchaseStatus = purchase.DisplayStatus()
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
	if now := time.Now().Add(purchase.ClockOffset); now.Sub(pay.OccurredAt) > domain.RefundWindow {
		return domain.RefundWindowClosed(pay.Ref, pay.OccurredAt)
	}
	left := pay.Amount - pay.RefundedAmount
	if left <= 0 {
		return domain.Errorf(domain.CodeConflict, "sourceTransactionRef", "payment %s is already fully refunded", pay.Ref)
	}
	amount := left
	if in.Amount != nil {
		amount = *in.Amount
	}
	if amount > left {
		return domain.Errorf(domain.CodeInvalidField, "amount", "amount %d is more than the %d %s left to refund on %s",
			amount, left, pay.Currency, pay.Ref)
	}
	c, err := s.starter(r)
	if err != nil {
		return err
	}
	res, err := c.Refund(ctx, merchant, pay.PurchaseRef, workflows.RefundInput{RequestKey: key, TransactionRef: pay.Ref,
		Amount: amount, Reason: in.Reason, KeepAccess: in.KeepAccess})
	if err != nil {
		return err
	}
	status := res.State.DisplayStatus()
	if res.State.PurchaseRef == "" { // a refund workflow made it: the purchase's workflow had closed
		status = purchase.DisplayStatus()
	}
	out := refundAnswer{Reference: res.TransactionRef, SourceTransactionRef: pay.Ref, Amount: res.Amount, Currency: pay.Currency,
		Status: domain.TxnSucceeded, Reason: in.Reason, Full: res.Amount == left, PurchaseRef: pay.PurchaseRef,
		PurchaseStatus: status, CreatedAt: time.Now().UTC()}
	if t, err := s.store.GetTransaction(ctx, merchant, res.TransactionRef); err == nil {
		out.Status, out.Reason, out.CreatedAt = t.Status, t.Reason, t.CreatedAt
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// refundKey is the business key of this refund request: the client's Idempotency-Key when it
// sent one, otherwise one derived from the request itself (the payment, the amount asked for or
// "the rest", the reason, keepAccess), so a client that retries a request without a key
// refunds once: the same request again answers the first refund.
func refundKey(r *http.Request, pay domain.Transaction, in refundInput) string {
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		return "api/" + k
	}
	amount := "rest"
	if in.Amount != nil {
		amount = strconv.FormatInt(*in.Amount, 10)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{pay.Ref, amount, in.Reason, strconv.FormatBool(in.KeepAccess)}, "\x00")))
	return fmt.Sprintf("%s/refund-%x", pay.Ref, sum[:12])
}

// refundAnswerOf answers a refund made before from its transaction.
func refundAnswerOf(t, pay domain.Transaction) refundAnswer {
	return refundAnswer{Reference: t.Ref, SourceTransactionRef: pay.Ref, Amount: t.Amount, Currency: t.Currency,
		Status: t.Status, Reason: t.Reason, Full: pay.RefundedAmount >= pay.Amount, PurchaseRef: pay.PurchaseRef,
		CreatedAt: t.CreatedAt}
}
