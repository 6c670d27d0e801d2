-- +goose Up
-- A setup the customer authenticated no longer covers the card's next payment: as at Stripe, a
-- card whose bank asks for every payment asks on the first off-session charge too, and the
-- customer authenticates that payment (the purchase waits for it).
ALTER TABLE sandbox_payment_methods DROP COLUMN session_authenticated;

-- +goose Down
ALTER TABLE sandbox_payment_methods ADD COLUMN session_authenticated boolean NOT NULL DEFAULT false;
