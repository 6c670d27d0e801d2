-- +goose Up
-- Pause and resume collection (issue 13): a paused purchase is still the customer's one live
-- purchase of its product, and its pause is projected for the API, the portal and the limits:
-- {"behavior":"keep_access"|"void","pausedAt","resumesAt"}. NULL when not paused.
ALTER TABLE purchases ADD COLUMN pause jsonb;
DROP INDEX purchases_one_live;
CREATE UNIQUE INDEX purchases_one_live ON purchases (customer_id, product_id)
    WHERE status IN ('pending','trialing','active','past_due','suspended','paused');

-- +goose Down
DROP INDEX purchases_one_live;
CREATE UNIQUE INDEX purchases_one_live ON purchases (customer_id, product_id)
    WHERE status IN ('pending','trialing','active','past_due','suspended');
ALTER TABLE purchases DROP COLUMN pause;
