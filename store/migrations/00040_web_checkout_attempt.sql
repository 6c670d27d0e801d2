-- +goose Up
-- Hosted checkout (issue 7): the purchase a checkout is paying for is reserved before its
-- workflow starts, so a double-clicked Pay or a reload starts the same workflow ID. It is kept
-- apart from purchase_id, which is set only once the session completes.
ALTER TABLE checkout_sessions ADD COLUMN attempt_purchase_id text;

-- +goose Down
ALTER TABLE checkout_sessions DROP COLUMN attempt_purchase_id;
