-- +goose Up
-- The projection follows the workflow after a reset (issue 12). A write's order was its
-- sequence number alone; a reset run numbers its steps again from the reset point, so every
-- write after `temporal workflow reset` was ignored. Writes are now ordered by the workflow
-- time of their step, then the sequence number: a reset run's steps come later in workflow time
-- than anything the run it replaced wrote, and a late retry of an older write still loses.
-- Rows and writes from before carry -infinity and keep the sequence order among themselves.
ALTER TABLE purchases ADD COLUMN step_at timestamptz NOT NULL DEFAULT '-infinity';

-- An audit row stays unique per step (a retried write adds none), and a reset run's step
-- that reuses a sequence number and action is recorded as the new step it is.
ALTER TABLE audit_log ADD COLUMN step_at timestamptz NOT NULL DEFAULT '-infinity';
DROP INDEX audit_log_step;
CREATE UNIQUE INDEX audit_log_step ON audit_log (object_id, seq, action, step_at) WHERE seq > 0;

-- +goose Down
DROP INDEX audit_log_step;
CREATE UNIQUE INDEX audit_log_step ON audit_log (object_id, seq, action) WHERE seq > 0;
ALTER TABLE audit_log DROP COLUMN step_at;
ALTER TABLE purchases DROP COLUMN step_at;
