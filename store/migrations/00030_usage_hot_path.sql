-- +goose Up
-- Usage hot path (issue 5).

-- Counters are updated in place on every event: leave room on each page so the update stays a
-- HOT update (no index churn); units and updated_at are not indexed.
ALTER TABLE usage_counters SET (fillfactor = 70);

-- A blocked limit check hands out a checkout link; reuse an open one instead of inserting a new
-- session for every blocked request of the same customer.
CREATE INDEX checkout_sessions_open ON checkout_sessions (customer_id, product_id, plan_id, expires_at)
    WHERE status = 'open';

-- Consume mode checks and records in one statement; when the counter refuses the units the
-- statement calls this to roll back the event it has just inserted.
-- +goose StatementBegin
CREATE FUNCTION tollgate_usage_limit_exceeded() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'usage limit exceeded' USING ERRCODE = 'TGL01';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tollgate_usage_limit_exceeded();
DROP INDEX checkout_sessions_open;
ALTER TABLE usage_counters RESET (fillfactor);
