-- +goose Up
-- A purchase whose payment is disputed, or whose payment is still processing (accepted by the
-- processor, not settled), says so beside its status. The merchant decides whether an open
-- dispute suspends access (the default) or keeps it.
ALTER TABLE purchases ADD COLUMN disputed boolean NOT NULL DEFAULT false;
ALTER TABLE purchases ADD COLUMN payment_processing boolean NOT NULL DEFAULT false;
ALTER TABLE merchants ADD COLUMN dispute_access text NOT NULL DEFAULT 'suspend'
    CHECK (dispute_access IN ('suspend', 'keep'));

-- +goose Down
ALTER TABLE merchants DROP COLUMN dispute_access;
ALTER TABLE purchases DROP COLUMN payment_processing;
ALTER TABLE purchases DROP COLUMN disputed;
