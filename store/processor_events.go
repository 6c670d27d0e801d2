package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// ProcessorEvent is a webhook event a payment processor sent (Stripe's evt_…).
type ProcessorEvent struct {
	ID        string
	Processor string
	Type      string
	ObjectRef string
	Livemode  bool
	Payload   json.RawMessage
}

// RecordProcessorEvent stores a received event once. seen reports that its id was recorded
// before; dispatched that its processing was already started (a redelivery then does nothing).
func (s *Store) RecordProcessorEvent(ctx context.Context, e ProcessorEvent) (seen, dispatched bool, err error) {
	if !json.Valid(e.Payload) {
		e.Payload = json.RawMessage(`null`)
	}
	var id string
	err = s.Pool.QueryRow(ctx, `INSERT INTO processor_events (id, processor, type, object_ref, livemode, payload)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
		e.ID, e.Processor, e.Type, e.ObjectRef, e.Livemode, []byte(e.Payload)).Scan(&id)
	if err == nil {
		return false, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, false, fmt.Errorf("record processor event: %w", err)
	}
	err = s.Pool.QueryRow(ctx, `SELECT dispatched_at IS NOT NULL FROM processor_events WHERE id = $1`, e.ID).Scan(&dispatched)
	if err != nil {
		return true, false, fmt.Errorf("read processor event: %w", err)
	}
	return true, dispatched, nil
}

// MarkProcessorEventDispatched records that the event's processing was started.
func (s *Store) MarkProcessorEventDispatched(ctx context.Context, id string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE processor_events SET dispatched_at = coalesce(dispatched_at, now()) WHERE id = $1`, id)
	return err
}

// FinishProcessorEvent records what processing the event did, or why it did nothing.
func (s *Store) FinishProcessorEvent(ctx context.Context, id, outcome string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE processor_events SET processed_at = now(), outcome = $2,
		dispatched_at = coalesce(dispatched_at, now()) WHERE id = $1`, id, outcome)
	return err
}

// ProcessorEventOutcome reads an event's row: whether it was processed, and what it did.
func (s *Store) ProcessorEventOutcome(ctx context.Context, id string) (processed bool, outcome string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT processed_at IS NOT NULL, outcome FROM processor_events WHERE id = $1`, id).
		Scan(&processed, &outcome)
	return processed, outcome, notFoundIfNoRows(err, "processor event", id)
}

// PaymentByProcessorRef finds the payment transaction a processor's payment id (pi_…, ch_sb_…)
// was recorded as, whichever merchant it belongs to: the webhook that names it carries no
// merchant. A payment Tollgate did not make is not found.
func (s *Store) PaymentByProcessorRef(ctx context.Context, processor, ref string) (domain.Transaction, error) {
	t, err := scanTxn(s.Pool.QueryRow(ctx, `SELECT `+txnCols+` FROM transactions t
		WHERE t.processor_ref = $1 AND t.processor = $2 AND t.kind = 'payment' AND t.purchase_id IS NOT NULL
		ORDER BY t.status = 'failed', t.created_at DESC LIMIT 1`, ref, processor))
	return t, notFoundIfNoRows(err, "payment", ref)
}

// SettleTransaction moves a pending payment to succeeded or failed; a transaction already
// settled stays as it is (settling is monotonic, so a late event cannot undo it). The one way
// out of failed is a payment that asked for authentication (3-D Secure) and that the customer
// then completed: it succeeded after all.
func (s *Store) SettleTransaction(ctx context.Context, merchant, ref, status, failureCode string) error {
	if status != domain.TxnSucceeded && status != domain.TxnFailed {
		return fmt.Errorf("settle transaction %s: status %q", ref, status)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE transactions SET status = $3, failure_code = $4,
				failure_message = CASE WHEN $3 = 'succeeded' THEN '' ELSE failure_message END
			WHERE merchant_id = $1 AND id = $2 AND (status = 'pending'
				OR (status = 'failed' AND $3 = 'succeeded' AND failure_code = $5))`,
			merchant, ref, status, failureCode, payments.CodeAuthenticationRequired)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return settledEvent(ctx, tx, merchant, ref)
	})
}

// ForgetPaymentMethod clears the card on file of every customer whose default is paymentMethod
// (it was detached at the processor); it answers how many customers had it.
func (s *Store) ForgetPaymentMethod(ctx context.Context, paymentMethod string) (int64, error) {
	if paymentMethod == "" {
		return 0, nil
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE customers SET payment_method = '', card_brand = '', card_last4 = '',
		card_exp_month = 0, card_exp_year = 0, updated_at = now() WHERE payment_method = $1`, paymentMethod)
	return tag.RowsAffected(), err
}

// ForgetProcessorCustomer clears the processor customer id, and the card on file with it, of
// the customers it belonged to (the customer was deleted at the processor). The next charge
// creates a processor customer again once a card is set.
func (s *Store) ForgetProcessorCustomer(ctx context.Context, processorCustomer string) (int64, error) {
	if processorCustomer == "" {
		return 0, nil
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE customers SET processor_customer_id = '', payment_method = '', card_brand = '',
		card_last4 = '', card_exp_month = 0, card_exp_year = 0, updated_at = now() WHERE processor_customer_id = $1`,
		processorCustomer)
	return tag.RowsAffected(), err
}
