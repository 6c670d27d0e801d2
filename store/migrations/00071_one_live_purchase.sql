-- +goose Up
-- One live purchase per customer and product. Every start of a purchase claims its projection
-- row first (pending), so a second concurrent activation, checkout or plan switch of the same
-- product finds the first one instead of charging the customer twice. The index has the
-- columns and predicate of purchases_access, which it replaces for the hot path's lookup.
-- +goose StatementBegin
DO $$
DECLARE
    dups text;
BEGIN
    SELECT string_agg(customer_id || '/' || product_id, ', ') INTO dups FROM (
        SELECT customer_id, product_id FROM purchases
        WHERE status IN ('pending','trialing','active','past_due','suspended')
        GROUP BY customer_id, product_id HAVING count(*) > 1 LIMIT 20) d;
    IF dups IS NOT NULL THEN
        RAISE EXCEPTION 'customers with more than one live purchase of a product (customer/product): %; end all but one (cancel or change plan) and migrate again', dups;
    END IF;
END
$$;
-- +goose StatementEnd
CREATE UNIQUE INDEX purchases_one_live ON purchases (customer_id, product_id)
    WHERE status IN ('pending','trialing','active','past_due','suspended');
DROP INDEX purchases_access;

-- +goose Down
CREATE INDEX purchases_access ON purchases (customer_id, product_id) WHERE status IN ('pending','trialing','active','past_due','suspended');
DROP INDEX purchases_one_live;
