-- +goose Up
-- Events (issue 15): every state change a merchant could act on, written in the same transaction
-- as the change (an outbox). dispatched_at is set once the relay has handed the event to the
-- webhook deliveries of the endpoints that want it; dedupe_key makes a retried write of one change
-- (a retried activity) write its event once.
CREATE TABLE events (
    id             text PRIMARY KEY,                     -- evt_, sorts by creation
    merchant_id    text NOT NULL REFERENCES merchants(id),
    mode           text NOT NULL CHECK (mode IN ('sandbox','live')),
    type           text NOT NULL,
    object_type    text NOT NULL,
    object_id      text NOT NULL,
    object         jsonb NOT NULL,
    dedupe_key     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz
);
CREATE UNIQUE INDEX events_dedupe ON events (merchant_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX events_list ON events (merchant_id, mode, created_at DESC, id DESC);
CREATE INDEX events_object ON events (merchant_id, object_id, created_at DESC);
CREATE INDEX events_undispatched ON events (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX events_age ON events (created_at);

-- +goose Down
DROP TABLE events;
