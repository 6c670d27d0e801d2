-- +goose Up
-- A plan change bills the old plan's usage up to the change (issue 13): a bill of its own in the
-- period, named by its key (the change's), beside the renewal's bill of the same period (key '').
ALTER TABLE usage_bills ADD COLUMN bill_key text NOT NULL DEFAULT '';
ALTER TABLE usage_bills DROP CONSTRAINT usage_bills_pkey;
ALTER TABLE usage_bills ADD PRIMARY KEY (merchant_id, customer_id, product_id, meter_name, period_start, bill_key);

-- +goose Down
DELETE FROM usage_bills WHERE bill_key <> '';
ALTER TABLE usage_bills DROP CONSTRAINT usage_bills_pkey;
ALTER TABLE usage_bills ADD PRIMARY KEY (merchant_id, customer_id, product_id, meter_name, period_start);
ALTER TABLE usage_bills DROP COLUMN bill_key;
