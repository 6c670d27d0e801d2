-- +goose Up
-- Usage hot path, part two: the API keeps what an event resolves to (customer id, live purchase
-- and its period, plan, meters) in memory, and every write or limit read checks in the same
-- statement that what it used is still current. Two counters say so: a customer's usage_version
-- moves when the customer's reference or any of its purchases changes, a merchant's when one of
-- its products, plans or meters changes. Triggers keep them, so no write path can forget to.
ALTER TABLE customers ADD COLUMN usage_version bigint NOT NULL DEFAULT 0;
ALTER TABLE merchants ADD COLUMN usage_version bigint NOT NULL DEFAULT 0;

-- Events are append-only and their merchant comes from the authenticated API key; merchants are
-- never deleted. The foreign key's check took a KEY SHARE lock on the merchant's row for every
-- event, from every concurrent writer (multixacts on one hot row), for nothing.
ALTER TABLE usage_events DROP CONSTRAINT usage_events_merchant_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION tollgate_customer_usage_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.usage_version := OLD.usage_version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_usage_version BEFORE UPDATE ON customers FOR EACH ROW
    WHEN (OLD.external_ref IS DISTINCT FROM NEW.external_ref OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION tollgate_customer_usage_version();

-- tollgate_usage_version_bump(table, column) moves the usage_version of the row of table whose
-- id is the changed row's column, before and after the change.
-- +goose StatementBegin
CREATE FUNCTION tollgate_usage_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_id text;
    new_id text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_id := to_jsonb(OLD) ->> TG_ARGV[1];
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_id := to_jsonb(NEW) ->> TG_ARGV[1];
    END IF;
    EXECUTE format('UPDATE %I SET usage_version = usage_version + 1 WHERE id IN ($1, $2)', TG_ARGV[0])
        USING old_id, new_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER purchases_usage_version_insert AFTER INSERT OR DELETE ON purchases FOR EACH ROW
    EXECUTE FUNCTION tollgate_usage_version_bump('customers', 'customer_id');
CREATE TRIGGER purchases_usage_version_update AFTER UPDATE ON purchases FOR EACH ROW
    WHEN ((OLD.customer_id, OLD.product_id, OLD.plan_id, OLD.status, OLD.current_period_start, OLD.current_period_end,
           OLD.created_at)
          IS DISTINCT FROM
          (NEW.customer_id, NEW.product_id, NEW.plan_id, NEW.status, NEW.current_period_start, NEW.current_period_end,
           NEW.created_at))
    EXECUTE FUNCTION tollgate_usage_version_bump('customers', 'customer_id');
CREATE TRIGGER products_usage_version AFTER INSERT OR UPDATE OR DELETE ON products FOR EACH ROW
    EXECUTE FUNCTION tollgate_usage_version_bump('merchants', 'merchant_id');
CREATE TRIGGER plans_usage_version AFTER INSERT OR UPDATE OR DELETE ON plans FOR EACH ROW
    EXECUTE FUNCTION tollgate_usage_version_bump('merchants', 'merchant_id');
CREATE TRIGGER meters_usage_version AFTER INSERT OR UPDATE OR DELETE ON meters FOR EACH ROW
    EXECUTE FUNCTION tollgate_usage_version_bump('merchants', 'merchant_id');

-- +goose Down
DROP TRIGGER meters_usage_version ON meters;
DROP TRIGGER plans_usage_version ON plans;
DROP TRIGGER products_usage_version ON products;
DROP TRIGGER purchases_usage_version_update ON purchases;
DROP TRIGGER purchases_usage_version_insert ON purchases;
DROP FUNCTION tollgate_usage_version_bump();
DROP TRIGGER customers_usage_version ON customers;
DROP FUNCTION tollgate_customer_usage_version();
ALTER TABLE usage_events ADD FOREIGN KEY (merchant_id) REFERENCES merchants(id);
ALTER TABLE merchants DROP COLUMN usage_version;
ALTER TABLE customers DROP COLUMN usage_version;
