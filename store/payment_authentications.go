package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// PaymentAuthentication is a payment the customer's bank wants authenticated (3-D Secure), and
// the hosted page /pay/<Token> that completes it.
type PaymentAuthentication struct {
	Token       string // pay_…, the page's bearer secret
	MerchantRef string
	PurchaseRef string
	CustomerRef string
	TxnRef      string // the payment that asked (failed, authentication_required)
	Processor   string
	PaymentRef  string // pi_… / ch_sb_…: the payment the page completes
	Amount      int64
	Currency    string
	// Superseded: a newer payment of the purchase asked again; this page no longer pays.
	Superseded bool
	CreatedAt  time.Time
}

const authCols = `token, merchant_id, purchase_id, customer_id, txn_id, processor, payment_ref, amount, currency,
	superseded, created_at`

// RecordPaymentAuthentication keeps a payment that asks for authentication and answers its
// page's token: once per transaction (a retried activity finds the row it wrote), superseding
// the purchase's older ones. In the same transaction it writes the payment.requires_action
// event, once per payment: the payment with the link of its page (PayLink). Every payment that
// asks — a renewal's or a first one — is recorded here, so each has its event.
func (s *Store) RecordPaymentAuthentication(ctx context.Context, a PaymentAuthentication) (string, error) {
	token := domain.NewSecretRef("pay")
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH older AS (
				UPDATE payment_authentications SET superseded = true
				WHERE purchase_id = $3 AND txn_id <> $5 AND NOT superseded)
			INSERT INTO payment_authentications (token, merchant_id, purchase_id, customer_id, txn_id, processor,
				payment_ref, amount, currency)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (txn_id) DO UPDATE SET txn_id = EXCLUDED.txn_id
			RETURNING token`, token, a.MerchantRef, a.PurchaseRef, a.CustomerRef, a.TxnRef, a.Processor, a.PaymentRef,
			a.Amount, a.Currency).Scan(&token)
		if err != nil {
			return err
		}
		t, err := scanTxn(tx.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t WHERE t.merchant_id = $1 AND t.id = $2`,
			a.MerchantRef, a.TxnRef))
		if err != nil {
			return fmt.Errorf("read %s: %w", a.TxnRef, err)
		}
		mode, err := transactionMode(ctx, tx, t)
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, newEvent{merchant: a.MerchantRef, mode: mode, typ: domain.EventPaymentRequiresAction,
			objectType: "transaction", objectRef: t.Ref, object: RequiresAction{Transaction: t, PayURL: s.PayLink(token)},
			dedupe: domain.EventPaymentRequiresAction + "/" + t.Ref})
	})
	if err != nil {
		return "", fmt.Errorf("record payment authentication for %s: %w", a.TxnRef, err)
	}
	return token, nil
}

// RequiresAction is the object of a payment.requires_action event: the payment (failed,
// authentication_required, until the customer completes it) and the hosted page that completes it.
type RequiresAction struct {
	domain.Transaction
	PayURL string `json:"payUrl"` // the /pay/<token> page to send the customer to
}

// PayLink is the address of the hosted page /pay/<token>: under PublicURL when it is set,
// else the path alone (relative to the address customers reach the API's pages at).
func (s *Store) PayLink(token string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/pay/" + token
}

// GetPaymentAuthentication reads the payment a /pay/<token> page completes.
func (s *Store) GetPaymentAuthentication(ctx context.Context, token string) (PaymentAuthentication, error) {
	a, err := scanAuth(s.Pool.QueryRow(ctx, `SELECT `+authCols+` FROM payment_authentications WHERE token = $1`, token))
	return a, notFoundIfNoRows(err, "payment authentication", "")
}

// OpenPaymentAuthentication is the page a past-due purchase's customer authenticates its
// payment on, if the purchase's renewal asks for it (the newest, not superseded).
func (s *Store) OpenPaymentAuthentication(ctx context.Context, merchant, purchase string) (PaymentAuthentication, error) {
	a, err := scanAuth(s.Pool.QueryRow(ctx, `SELECT `+authCols+` FROM payment_authentications
		WHERE merchant_id = $1 AND purchase_id = $2 AND NOT superseded ORDER BY created_at DESC LIMIT 1`, merchant, purchase))
	return a, notFoundIfNoRows(err, "payment authentication", purchase)
}

func scanAuth(row pgx.Row) (PaymentAuthentication, error) {
	var a PaymentAuthentication
	err := row.Scan(&a.Token, &a.MerchantRef, &a.PurchaseRef, &a.CustomerRef, &a.TxnRef, &a.Processor, &a.PaymentRef,
		&a.Amount, &a.Currency, &a.Superseded, &a.CreatedAt)
	return a, err
}
