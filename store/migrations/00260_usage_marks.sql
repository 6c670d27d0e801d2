-- +goose Up
-- Usage marks (issue 15): usage.threshold_reached and usage.limit_reached are written by the
-- statement that adds to a usage counter (store/usage_marks.go), so their references are made in
-- SQL the way domain.NewTimedRef makes them in Go: the prefix, the time in microseconds as 9
-- base62 characters (references sort by creation), then 10 random characters.
-- +goose StatementBegin
CREATE FUNCTION tollgate_timed_ref(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    rnd bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
    ts text := '';
    tail text := '';
    b int;
BEGIN
    FOR i IN 1..9 LOOP
        ts := substr(alphabet, (us % 62)::int + 1, 1) || ts;
        us := us / 62;
    END LOOP;
    -- bytes 0-5 and 16-19 of two version-4 UUIDs are all random (6 and 8 carry fixed bits)
    FOREACH b IN ARRAY ARRAY[0, 1, 2, 3, 4, 5, 16, 17, 18, 19] LOOP
        tail := tail || substr(alphabet, get_byte(rnd, b) % 62 + 1, 1);
    END LOOP;
    RETURN prefix || '_' || ts || tail;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tollgate_timed_ref(text);
