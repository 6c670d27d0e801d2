-- +goose Up
-- The sandbox processor's own ledger: what a real processor would keep on its side. It is the
-- ground truth for "exactly one charge per period" in tests, independent of our transactions.
-- Idempotency keys are unique so a retried or concurrent call can only ever find the first row.

CREATE TABLE sandbox_payment_methods (
    id           text PRIMARY KEY,                     -- pm_sb_
    customer_id  text NOT NULL,                        -- the sandbox customer it is attached to
    behaviour    text NOT NULL,                        -- succeeds, card_declined, insufficient_funds, fails_after_attach
    brand        text NOT NULL,
    last4        text NOT NULL,
    exp_month    int NOT NULL,
    exp_year     int NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_charges (
    id               text PRIMARY KEY,                 -- ch_sb_
    idempotency_key  text NOT NULL UNIQUE,
    customer_id      text NOT NULL,
    payment_method   text NOT NULL,
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         text NOT NULL,
    description      text NOT NULL DEFAULT '',
    metadata         jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL CHECK (status IN ('succeeded','failed')),
    failure_code     text NOT NULL DEFAULT '',
    failure_message  text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_refunds (
    id               text PRIMARY KEY,                 -- re_sb_
    idempotency_key  text NOT NULL UNIQUE,
    charge_id        text NOT NULL REFERENCES sandbox_charges(id),
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         text NOT NULL,
    reason           text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN ('succeeded')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_refunds_charge ON sandbox_refunds (charge_id);

-- +goose Down
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_charges;
DROP TABLE sandbox_payment_methods;
