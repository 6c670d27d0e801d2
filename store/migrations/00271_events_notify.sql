-- +goose Up
-- The webhook relay wakes when events are written rather than only on its poll: a statement that
-- writes events announces it on channel tollgate_events when its transaction commits (Postgres
-- sends one notification per channel and payload per transaction, so a batch costs one).
-- +goose StatementBegin
CREATE FUNCTION tollgate_events_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tollgate_events', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_written AFTER INSERT ON events FOR EACH STATEMENT
    EXECUTE FUNCTION tollgate_events_written();

-- +goose Down
DROP TRIGGER events_written ON events;
DROP FUNCTION tollgate_events_written();
