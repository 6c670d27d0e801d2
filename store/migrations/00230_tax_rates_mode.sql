-- +goose Up
-- Taxes computed on charges (issue 17). Tax rates belong to a merchant and a mode, like the
-- rest of its catalogue; a rate is never edited, it is archived and a new one created, so the
-- rate an invoice names stays what it was. The tax of a charge is computed once, when the charge
-- is first asked, and kept under the charge's idempotency key (charge_taxes): a retried charge
-- charges the same total whatever happened to the rates since. The transaction recorded for the
-- charge copies it into transaction_taxes, from which its invoice is split.

ALTER TABLE tax_rates ADD COLUMN mode text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox','live'));
ALTER TABLE tax_rates RENAME COLUMN deleted_at TO archived_at;
DROP INDEX tax_rates_country;
CREATE UNIQUE INDEX tax_rates_country ON tax_rates (merchant_id, mode, country) WHERE archived_at IS NULL;
CREATE INDEX tax_rates_list ON tax_rates (merchant_id, mode, created_at DESC, id DESC);

CREATE TABLE charge_taxes (
    merchant_id      text NOT NULL REFERENCES merchants(id),
    idempotency_key  text NOT NULL,                  -- the charge's key
    net              bigint NOT NULL CHECK (net >= 0), -- the amount the workflow asked (a price)
    tax              bigint NOT NULL CHECK (tax >= 0),
    total            bigint NOT NULL CHECK (total >= 0), -- what is charged
    tax_rate_id      text,
    name             text NOT NULL DEFAULT '',
    basis_points     int NOT NULL DEFAULT 0,
    inclusive        boolean NOT NULL DEFAULT false,
    country          text NOT NULL DEFAULT '',
    note             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, idempotency_key)
);

ALTER TABLE transaction_taxes ADD COLUMN tax_rate_id text;
ALTER TABLE transaction_taxes ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE transaction_taxes ADD COLUMN country text NOT NULL DEFAULT '';

ALTER TABLE invoice_lines ADD COLUMN tax_name text NOT NULL DEFAULT '';
ALTER TABLE invoice_lines ADD COLUMN tax_inclusive boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE invoice_lines DROP COLUMN tax_inclusive;
ALTER TABLE invoice_lines DROP COLUMN tax_name;
ALTER TABLE transaction_taxes DROP COLUMN country;
ALTER TABLE transaction_taxes DROP COLUMN name;
ALTER TABLE transaction_taxes DROP COLUMN tax_rate_id;
DROP TABLE charge_taxes;
DROP INDEX tax_rates_list;
DROP INDEX tax_rates_country;
ALTER TABLE tax_rates RENAME COLUMN archived_at TO deleted_at;
CREATE UNIQUE INDEX tax_rates_country ON tax_rates (merchant_id, country) WHERE deleted_at IS NULL;
ALTER TABLE tax_rates DROP COLUMN mode;
