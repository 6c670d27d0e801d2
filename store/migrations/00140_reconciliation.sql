-- +goose Up
-- Reconciliation with the payment processor (workflows/reconcile.go). reconciled_at is when a
-- run last found the transaction at the processor (or adopted it from there); a payment or
-- refund the processor does not know is flagged: reconcile_flag says why (unknown_to_processor),
-- until a later run finds it after all.
ALTER TABLE transactions ADD COLUMN reconciled_at timestamptz;
ALTER TABLE transactions ADD COLUMN reconcile_flag text NOT NULL DEFAULT '';
ALTER TABLE transactions ADD COLUMN reconcile_flagged_at timestamptz;
CREATE INDEX transactions_reconcile_flagged ON transactions (merchant_id, reconcile_flagged_at) WHERE reconcile_flag <> '';
-- a run reads the ledger of one processor since a time
CREATE INDEX transactions_processor_created ON transactions (processor, created_at) WHERE processor_ref <> '';

-- +goose Down
DROP INDEX transactions_processor_created;
DROP INDEX transactions_reconcile_flagged;
ALTER TABLE transactions DROP COLUMN reconcile_flagged_at;
ALTER TABLE transactions DROP COLUMN reconcile_flag;
ALTER TABLE transactions DROP COLUMN reconciled_at;
