-- +goose Up
-- Webhook endpoints and deliveries (issue 15). An endpoint belongs to the mode of the key that
-- made it and receives that mode's events; events '{*}' is every type. A rotated secret keeps
-- signing until previous_secret_until. failing_since is the first failure of the current run of
-- failures (cleared by a success): five days of it disable the endpoint (disabled_at).
ALTER TABLE webhook_endpoints ADD COLUMN mode text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox','live'));
ALTER TABLE webhook_endpoints ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN enabled boolean NOT NULL DEFAULT true;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret text NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_until timestamptz;
ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz;
ALTER TABLE webhook_endpoints ADD COLUMN deleted_at timestamptz;
ALTER TABLE webhook_endpoints ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, mode) WHERE deleted_at IS NULL;

-- one row per attempt of a delivery: when, the answer's status (0: no answer), how long, and
-- the first 1 KB of the answer (or the connection's error)
CREATE TABLE webhook_attempts (
    id            bigserial PRIMARY KEY,
    delivery_id   bigint NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    endpoint_id   text NOT NULL,
    event_id      text NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    status_code   int NOT NULL DEFAULT 0,
    latency_ms    int NOT NULL DEFAULT 0,
    response      text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP INDEX webhook_deliveries_event;
ALTER TABLE webhook_endpoints DROP COLUMN mode, DROP COLUMN description, DROP COLUMN enabled,
    DROP COLUMN previous_secret, DROP COLUMN previous_secret_until, DROP COLUMN failing_since,
    DROP COLUMN deleted_at, DROP COLUMN updated_at;
