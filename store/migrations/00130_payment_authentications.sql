-- +goose Up
-- A renewal the customer's bank wants authenticated (3-D Secure) is not a plain decline: the
-- purchase goes past due with reason authentication_required, and the customer completes that
-- very payment on a hosted page /pay/<token>. One row per payment asking for it; the token is
-- the page's bearer secret (unguessable, like a checkout session's id). A newer payment of the
-- same purchase asking again supersedes the older rows, so only one page can pay a period.
CREATE TABLE payment_authentications (
    token          text PRIMARY KEY,                  -- pay_…
    merchant_id    text NOT NULL REFERENCES merchants (id),
    purchase_id    text NOT NULL,
    customer_id    text NOT NULL,
    txn_id         text NOT NULL UNIQUE,              -- the payment that asks (failed, authentication_required)
    processor      text NOT NULL,                     -- stripe, sandbox
    payment_ref    text NOT NULL,                     -- pi_… / ch_sb_…: the payment the page completes
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL,
    superseded     boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_authentications_purchase ON payment_authentications (purchase_id, created_at DESC);
-- the reason a purchase is past due (its failed payment's code), for the portal and the API
ALTER TABLE purchases ADD COLUMN past_due_reason text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE purchases DROP COLUMN past_due_reason;
DROP TABLE payment_authentications;
