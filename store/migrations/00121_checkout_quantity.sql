-- +goose Up
-- Seats (issue 13): a checkout session buys a quantity of a per-seat plan.
ALTER TABLE checkout_sessions ADD COLUMN quantity bigint NOT NULL DEFAULT 1 CHECK (quantity >= 1);

-- +goose Down
ALTER TABLE checkout_sessions DROP COLUMN quantity;
