-- +goose Up
-- The sandbox forgets an idempotency key after a window, as Stripe does after about 24 hours:
-- a key used again after that makes a new charge. A forgotten key stays on its charge (the
-- ledger and FindCharge still see it) but no longer answers replays. server_error marks a charge
-- that was made and then answered 500 (the sandbox's fault card); replays answer 500 too.
ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_idempotency_key_key;
ALTER TABLE sandbox_charges ADD COLUMN key_forgotten boolean NOT NULL DEFAULT false;
ALTER TABLE sandbox_charges ADD COLUMN server_error boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX sandbox_charges_live_key ON sandbox_charges (idempotency_key) WHERE NOT key_forgotten;
CREATE INDEX sandbox_charges_key ON sandbox_charges (idempotency_key);

-- +goose Down
DROP INDEX sandbox_charges_key;
DROP INDEX sandbox_charges_live_key;
ALTER TABLE sandbox_charges DROP COLUMN server_error;
ALTER TABLE sandbox_charges DROP COLUMN key_forgotten;
ALTER TABLE sandbox_charges ADD CONSTRAINT sandbox_charges_idempotency_key_key UNIQUE (idempotency_key);
