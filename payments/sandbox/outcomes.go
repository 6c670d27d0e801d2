package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments"
)

// The sandbox plays two outcomes Stripe reports later, by webhook, rather than in the answer to
// the charge: a processing payment settling, and a dispute (chargeback) opened and then closed.
// Each call changes the ledger and answers the event Stripe would send; the caller sends it
// through the webhook handler (Webhooks), so the purchase learns it the way it learns Stripe's.

// DefaultDisputeAfter is how long after a charge of the disputed card its dispute opens: shortly
// after, as at Stripe, once the purchase has recorded the payment.
const DefaultDisputeAfter = 2 * time.Second

// SetWebhooks makes the sandbox send the outcomes it makes on its own — the dispute that opens
// after a charge of the disputed card — through hooks, as it sends those of the sandbox routes.
// Without it (a worker process apart from the API, whose handler it cannot reach) no dispute
// opens by itself; the dispute route opens one.
func (p *Processor) SetWebhooks(hooks *Webhooks) { p.webhooks.Store(hooks) }

// Webhooks is the sender SetWebhooks set, or nil.
func (p *Processor) Webhooks() *Webhooks { return p.webhooks.Load() }

// disputeLater opens a dispute over charge id shortly after it succeeded (the disputed card,
// 4000 0000 0000 0259) and sends its charge.dispute.created, as the dispute route does. The
// charge is in the ledger already, so the dispute opens whatever becomes of this process's
// request; an event that could not be sent is logged, and the dispute route sends it again.
func (p *Processor) disputeLater(id string) {
	hooks := p.Webhooks()
	if !hooks.ready() {
		slog.Warn("sandbox: no webhook handler in this process; the disputed card's dispute does not open by itself", "charge", id)
		return
	}
	time.AfterFunc(cmp.Or(p.DisputeAfter, DefaultDisputeAfter), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, ev, err := p.OpenDispute(ctx, id)
		for try := 1; err == nil; try++ {
			if err = hooks.Send(ctx, ev); err == nil || try == 3 {
				break
			}
			time.Sleep(time.Duration(try) * time.Second)
		}
		if err != nil {
			slog.Error("sandbox: the disputed card's dispute was not reported", "charge", id, "err", err)
		}
	})
}

// disputePrefix starts the sandbox's dispute ids.
const disputePrefix = "dp_sb"

// Dispute statuses, Stripe's words.
const (
	DisputeNeedsResponse = "needs_response"
	DisputeWon           = "won"
	DisputeLost          = "lost"
)

// Dispute is a sandbox dispute over a charge.
type Dispute struct {
	ID       string `json:"id"`
	Charge   string `json:"charge"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
	Status   string `json:"status"`
}

// chargeOf reads charge id, or answers resource_missing as Stripe does.
func (p *Processor) chargeOf(ctx context.Context, id string) (chargeRow, error) {
	c, err := p.scanCharge(ctx, `WHERE id = $1`, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, &payments.DeclineError{Code: "resource_missing", Message: "no such charge: " + id}
	}
	return c, err
}

// Settle settles a processing charge: succeeded, or failed with failureCode (card_declined when
// empty). It answers payment_intent.succeeded or .payment_failed. A charge already settled the
// same way answers its event again and changes nothing; one settled the other way, or never
// processing, is refused.
func (p *Processor) Settle(ctx context.Context, chargeID string, succeed bool, failureCode string) (Event, error) {
	status, msg := payments.PaymentSucceeded, ""
	if !succeed {
		status, failureCode, msg = payments.PaymentFailed, cmp.Or(failureCode, "card_declined"), "The payment failed after processing."
	} else {
		failureCode = ""
	}
	if _, err := p.pool.Exec(ctx, `UPDATE sandbox_charges SET status = $2, failure_code = $3, failure_message = $4,
		settled_at = now() WHERE id = $1 AND status = 'processing'`, chargeID, status, failureCode, msg); err != nil {
		return Event{}, fmt.Errorf("sandbox: settle: %w", err)
	}
	c, err := p.chargeOf(ctx, chargeID)
	if err != nil {
		return Event{}, err
	}
	var settled bool
	if err := p.pool.QueryRow(ctx, `SELECT settled_at IS NOT NULL FROM sandbox_charges WHERE id = $1`, chargeID).Scan(&settled); err != nil {
		return Event{}, fmt.Errorf("sandbox: settle: %w", err)
	}
	if !settled || c.status != status {
		return Event{}, invalid("charge %s is %s and not processing: it cannot be settled %s", chargeID, c.status, status)
	}
	return c.event(), nil
}

// OpenDispute opens a dispute (reason fraudulent, as Stripe's card 4000 0000 0000 0259) over
// the whole of a succeeded charge, and answers charge.dispute.created. A charge has at most one
// dispute: opening it again answers the one there is.
func (p *Processor) OpenDispute(ctx context.Context, chargeID string) (Dispute, Event, error) {
	c, err := p.chargeOf(ctx, chargeID)
	if err != nil {
		return Dispute{}, Event{}, err
	}
	if c.status != payments.PaymentSucceeded {
		return Dispute{}, Event{}, invalid("charge %s is %s: only a succeeded charge can be disputed", chargeID, c.status)
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO sandbox_disputes (id, charge_id, amount, currency, reason, status)
		VALUES ($1, $2, $3, $4, 'fraudulent', $5) ON CONFLICT (charge_id) DO NOTHING`,
		domain.NewRef(disputePrefix), c.id, c.amount, c.currency, DisputeNeedsResponse)
	if err != nil {
		return Dispute{}, Event{}, fmt.Errorf("sandbox: open dispute: %w", err)
	}
	d, err := p.dispute(ctx, c.id)
	if err != nil {
		return Dispute{}, Event{}, err
	}
	return d.public(), d.event("charge.dispute.created"), nil
}

// CloseDispute closes the dispute over a charge, won or lost, and answers
// charge.dispute.closed. Closing it again the same way answers the same event; a dispute
// closed the other way stays as it is, and the call is refused.
func (p *Processor) CloseDispute(ctx context.Context, chargeID string, won bool) (Dispute, Event, error) {
	status := DisputeLost
	if won {
		status = DisputeWon
	}
	if _, err := p.chargeOf(ctx, chargeID); err != nil {
		return Dispute{}, Event{}, err
	}
	_, err := p.pool.Exec(ctx, `UPDATE sandbox_disputes SET status = $2, closed_at = now()
		WHERE charge_id = $1 AND status = $3`, chargeID, status, DisputeNeedsResponse)
	if err != nil {
		return Dispute{}, Event{}, fmt.Errorf("sandbox: close dispute: %w", err)
	}
	d, err := p.dispute(ctx, chargeID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Dispute{}, Event{}, invalid("charge %s has no dispute to close", chargeID)
	} else if err != nil {
		return Dispute{}, Event{}, err
	}
	if d.status != status {
		return Dispute{}, Event{}, invalid("the dispute over %s is already closed %s", chargeID, d.status)
	}
	return d.public(), d.event("charge.dispute.closed"), nil
}

// disputeRow is a row of sandbox_disputes.
type disputeRow struct {
	id, chargeID, currency, reason, status string
	amount                                 int64
}

func (p *Processor) dispute(ctx context.Context, chargeID string) (disputeRow, error) {
	var d disputeRow
	err := p.pool.QueryRow(ctx, `SELECT id, charge_id, amount, currency, reason, status FROM sandbox_disputes
		WHERE charge_id = $1`, chargeID).Scan(&d.id, &d.chargeID, &d.amount, &d.currency, &d.reason, &d.status)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("sandbox: read dispute: %w", err)
	}
	return d, err
}

func (d disputeRow) public() Dispute {
	return Dispute{ID: d.id, Charge: d.chargeID, Amount: d.amount, Currency: d.currency, Reason: d.reason, Status: d.status}
}

// event is the charge.dispute.* event Stripe sends about the dispute.
func (d disputeRow) event(typ string) Event {
	return Event{Type: typ, Object: map[string]any{"id": d.id, "object": "dispute", "charge": d.chargeID,
		"amount": d.amount, "currency": strings.ToLower(d.currency), "reason": d.reason, "status": d.status}}
}
