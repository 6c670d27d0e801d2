-- +goose Up
-- A period's charge below the processor's minimum for its currency (Stripe: 50 cents USD, 30
-- pence GBP, …) is never sent: it is carried to the next period's charge. The purchase shows
-- what it carries (issue 12).
ALTER TABLE purchases ADD COLUMN carried_amount bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE purchases DROP COLUMN carried_amount;
