-- +goose Up
-- A plan change scheduled for the period end (issue 13: a downgrade waits for the boundary),
-- projected from the purchase workflow so GET /v1/purchases/{ref} and the portal show it:
-- {"planRef","planName","amount","currency","billingCycle","effectiveAt"}. NULL when none.
ALTER TABLE purchases ADD COLUMN scheduled_change jsonb;

-- +goose Down
ALTER TABLE purchases DROP COLUMN scheduled_change;
