-- +goose Up
-- A hosted checkout or portal session remembers the mode of the key that created it: its card
-- and its purchase go to that mode's processor (a sandbox session never reaches Stripe). Sessions
-- made before this change were made by sandbox keys, the only kind there was to create.
ALTER TABLE checkout_sessions ADD COLUMN mode text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox','live'));
ALTER TABLE customer_sessions ADD COLUMN mode text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox','live'));

-- +goose Down
ALTER TABLE customer_sessions DROP COLUMN mode;
ALTER TABLE checkout_sessions DROP COLUMN mode;
