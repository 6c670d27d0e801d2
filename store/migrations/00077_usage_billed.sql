-- +goose Up
-- Every usage unit is billed once (issue 12). A renewal bills the units its purchase's counters
-- hold and marks them billed in the same transaction; units added to a counter afterwards (an
-- event recorded while the renewal runs) stay unbilled and go with the next bill. usage_bills
-- remembers each bill, so a retried read answers the same units. billed is not indexed: the
-- counters' updates stay HOT.
ALTER TABLE usage_counters ADD COLUMN billed bigint NOT NULL DEFAULT 0;

CREATE TABLE usage_bills (
    merchant_id   text NOT NULL,
    customer_id   text NOT NULL,
    product_id    text NOT NULL,
    meter_name    text NOT NULL,
    period_start  timestamptz NOT NULL,                -- the period whose renewal (or final bill) made it
    units         bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, customer_id, product_id, meter_name, period_start)
);

-- Before this, each renewal billed its own period's counter: everything but the current period
-- of a live purchase was billed (or never will be).
UPDATE usage_counters uc SET billed = units
WHERE units > 0 AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.customer_id = uc.customer_id
    AND p.product_id = uc.product_id AND p.status IN ('pending','trialing','active','past_due','suspended')
    AND p.current_period_start <= uc.period_start);

-- +goose Down
DROP TABLE usage_bills;
ALTER TABLE usage_counters DROP COLUMN billed;
