-- +goose Up
-- Card testing through the hosted pages: each checkout and portal session counts the cards the
-- processor refused on it. A session is spent after a few; the sessions of one customer refused
-- within an hour limit that customer. Kept in Postgres so every API replica sees the same count.
ALTER TABLE checkout_sessions ADD COLUMN failed_card_attempts int NOT NULL DEFAULT 0,
    ADD COLUMN last_card_failure_at timestamptz;
ALTER TABLE customer_sessions ADD COLUMN failed_card_attempts int NOT NULL DEFAULT 0,
    ADD COLUMN last_card_failure_at timestamptz;
CREATE INDEX checkout_sessions_card_failures ON checkout_sessions (customer_id, last_card_failure_at)
    WHERE last_card_failure_at IS NOT NULL;
CREATE INDEX customer_sessions_card_failures ON customer_sessions (customer_id, last_card_failure_at)
    WHERE last_card_failure_at IS NOT NULL;

-- +goose Down
DROP INDEX customer_sessions_card_failures;
DROP INDEX checkout_sessions_card_failures;
ALTER TABLE customer_sessions DROP COLUMN last_card_failure_at, DROP COLUMN failed_card_attempts;
ALTER TABLE checkout_sessions DROP COLUMN last_card_failure_at, DROP COLUMN failed_card_attempts;
