-- +goose Up
-- Events received from a payment processor's webhooks (Stripe's evt_…), one row per event id:
-- a redelivered event finds its row and is not processed again. The row is written before the
-- webhook is answered; processing runs in a Temporal workflow (stripe-event-<id>), and
-- dispatched_at says it was started, so a redelivery after a crash in between starts it then.
CREATE TABLE processor_events (
    id             text PRIMARY KEY,                  -- evt_…
    processor      text NOT NULL,                     -- stripe, sandbox
    type           text NOT NULL,                     -- payment_intent.succeeded, charge.refunded, …
    object_ref     text NOT NULL DEFAULT '',          -- the payment, customer or card the event is about
    livemode       boolean NOT NULL DEFAULT false,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz,                       -- its workflow was started
    processed_at   timestamptz,                       -- its workflow finished
    outcome        text NOT NULL DEFAULT ''           -- what it did, or why it was ignored
);
CREATE INDEX processor_events_received ON processor_events (received_at);
-- an event names the processor's payment; its transaction tells the purchase
CREATE INDEX transactions_processor_ref ON transactions (processor_ref) WHERE processor_ref <> '';

-- +goose Down
DROP INDEX transactions_processor_ref;
DROP TABLE processor_events;
