-- +goose Up
-- The sandbox plays two of Stripe's later outcomes: a payment accepted but not settled
-- (processing, settled later as succeeded or failed), and a dispute over a payment (opened,
-- then closed won or lost). Both reach Tollgate through the webhook handler, as Stripe's do.
ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_status_check;
ALTER TABLE sandbox_charges ADD CONSTRAINT sandbox_charges_status_check
    CHECK (status IN ('succeeded', 'failed', 'processing'));
-- when a processing charge was settled: a charge never processing cannot be settled
ALTER TABLE sandbox_charges ADD COLUMN settled_at timestamptz;

-- At most one dispute per charge, as at Stripe.
CREATE TABLE sandbox_disputes (
    id          text PRIMARY KEY,                        -- dp_sb_
    charge_id   text NOT NULL UNIQUE REFERENCES sandbox_charges (id),
    amount      bigint NOT NULL CHECK (amount > 0),
    currency    text NOT NULL,
    reason      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('needs_response', 'won', 'lost')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);

-- +goose Down
DROP TABLE sandbox_disputes;
ALTER TABLE sandbox_charges DROP COLUMN settled_at;
UPDATE sandbox_charges SET status = 'failed', failure_code = 'processing_error' WHERE status = 'processing';
ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_status_check;
ALTER TABLE sandbox_charges ADD CONSTRAINT sandbox_charges_status_check CHECK (status IN ('succeeded', 'failed'));
