-- +goose Up
-- The latest charge failure that was not the customer's (a rejected key, a malformed request, a
-- processor outage), one row per processor, so /readyz on any API replica can say why charges
-- wait. A row older than the reporting window counts as cleared.
CREATE TABLE payment_faults (
    processor  text PRIMARY KEY,
    kind       text NOT NULL,
    message    text NOT NULL,
    failures   bigint NOT NULL DEFAULT 1,
    first_at   timestamptz NOT NULL DEFAULT now(),
    last_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE payment_faults;
