-- +goose Up
-- Each endpoint's new deliveries get their first attempt together, in batches, from one workflow
-- per endpoint; only a delivery whose first attempt fails gets a workflow of its own, to retry it
-- on the schedule. retrying marks the deliveries that have that workflow (or, from before this
-- migration, the one-per-delivery workflow that the relay started for every dispatched event).
ALTER TABLE webhook_deliveries ADD COLUMN retrying boolean NOT NULL DEFAULT false;
UPDATE webhook_deliveries d SET retrying = true FROM events e WHERE e.id = d.event_id AND e.dispatched_at IS NOT NULL;
CREATE INDEX webhook_deliveries_first_attempts ON webhook_deliveries (endpoint_id, id)
    WHERE status = 'pending' AND NOT retrying;

-- +goose Down
DROP INDEX webhook_deliveries_first_attempts;
ALTER TABLE webhook_deliveries DROP COLUMN retrying;
