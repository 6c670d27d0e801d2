-- +goose Up
-- 3-D Secure at checkout: the card is set up with the customer present (a SetupIntent) before
-- the purchase starts. on_session_ref is that setup (seti_…, seti_sb_…) for the session's
-- reserved purchase: the checkout shows the bank's authentication step while it asks.
ALTER TABLE checkout_sessions ADD COLUMN on_session_ref text NOT NULL DEFAULT '';

-- The sandbox's SetupIntents: a 3-D Secure test card asks the customer to authenticate.
CREATE TABLE sandbox_setups (
    id               text PRIMARY KEY,                 -- seti_sb_
    idempotency_key  text NOT NULL UNIQUE,
    customer_id      text NOT NULL,
    payment_method   text NOT NULL,
    status           text NOT NULL CHECK (status IN ('succeeded', 'requires_action', 'failed')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- a setup the customer authenticated covers the next payment of the card (the purchase's
-- first, taken while the customer is still at checkout)
ALTER TABLE sandbox_payment_methods ADD COLUMN session_authenticated boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE sandbox_payment_methods DROP COLUMN session_authenticated;
DROP TABLE sandbox_setups;
ALTER TABLE checkout_sessions DROP COLUMN on_session_ref;
