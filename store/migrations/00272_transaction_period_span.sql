-- +goose Up
-- The span a payment pays (issue 17): its invoice line's period, named by the charge and kept on
-- the payment, so an invoice issued when the payment settles later (processing, 3-D Secure)
-- carries it too. NULL where the charge did not say (refunds, adopted or older payments).
ALTER TABLE transactions ADD COLUMN period_start timestamptz, ADD COLUMN period_end timestamptz;

-- +goose Down
ALTER TABLE transactions DROP COLUMN period_start, DROP COLUMN period_end;
