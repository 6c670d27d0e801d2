-- +goose Up
-- API keys an operator manages (issue 16): each has an id to name it by (key_…), a name, may be
-- read-only, may expire (the old key of a rotation), and remembers when it was last used. The key
-- itself is still never stored, only its SHA-256.
ALTER TABLE api_keys ADD COLUMN id text;
ALTER TABLE api_keys ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN read_only boolean NOT NULL DEFAULT false;
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
UPDATE api_keys SET id = 'key_' || substr(encode(key_hash, 'hex'), 1, 16) WHERE id IS NULL;
ALTER TABLE api_keys ALTER COLUMN id SET NOT NULL;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_id_key UNIQUE (id);

-- Every API replica remembers the keys it has seen; a change that can refuse a key (revoked,
-- expiring, made read-only, deleted) is announced on channel tollgate_api_keys, with the key's
-- hash in hex, when its transaction commits, and each replica forgets the key at once.
-- last_used_at alone announces nothing.
-- +goose StatementBegin
CREATE FUNCTION tollgate_api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tollgate_api_keys', encode(OLD.key_hash, 'hex'));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
       OR OLD.read_only IS DISTINCT FROM NEW.read_only OR OLD.mode IS DISTINCT FROM NEW.mode
       OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id OR OLD.key_hash IS DISTINCT FROM NEW.key_hash)
    EXECUTE FUNCTION tollgate_api_key_changed();
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH ROW
    EXECUTE FUNCTION tollgate_api_key_changed();

-- +goose Down
DROP TRIGGER api_keys_deleted ON api_keys;
DROP TRIGGER api_keys_changed ON api_keys;
DROP FUNCTION tollgate_api_key_changed();
ALTER TABLE api_keys DROP COLUMN last_used_at;
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN read_only;
ALTER TABLE api_keys DROP COLUMN name;
ALTER TABLE api_keys DROP COLUMN id;
