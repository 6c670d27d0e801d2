-- +goose Up
-- Each merchant's own Stripe account (issue 16): its secret key and webhook signing secret,
-- sealed with AES-256-GCM under the deployment's TOLLGATE_ENCRYPTION_KEY before they reach
-- Postgres (internal/sealed: "tgs1.<key id>.<ciphertext>"), never in clear; the publishable key
-- is browser-safe and kept as is. A merchant without a row uses the deployment's
-- STRIPE_SECRET_KEY.
CREATE TABLE merchant_stripe (
    merchant_id           text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    secret_key_sealed     text NOT NULL,
    secret_key_hint       text NOT NULL,          -- sk_live_…abcd: which key, for people
    publishable_key       text NOT NULL,
    webhook_secret_sealed text NOT NULL DEFAULT '', -- '': none set
    livemode              boolean NOT NULL,       -- sk_live_ (true) or sk_test_
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE merchant_stripe;
