-- +goose Up
-- Invoices (issue 17): a numbered document for every succeeded payment and a credit note for
-- every succeeded refund, issued in the same Postgres transaction that records the money as
-- succeeded (store/invoices_issue.go). Numbers come from invoice_sequences, one row per
-- merchant, mode and kind, bumped in the transaction that finalises the document: a rollback
-- gives the number back, so numbers are gapless and never reused. Never reset (not yearly, not
-- monthly): the year in a number is decoration.

CREATE TABLE invoice_settings (
    merchant_id   text PRIMARY KEY REFERENCES merchants(id),
    prefix        text NOT NULL DEFAULT 'INV',
    pattern       text NOT NULL DEFAULT '<PREFIX>-<YYYY>-<000001>',
    paper_size    text NOT NULL DEFAULT 'A4' CHECK (paper_size IN ('A4','Letter')),
    address       text NOT NULL DEFAULT '',          -- lines separated by newlines
    country       text NOT NULL DEFAULT '',          -- ISO 3166-1 alpha-2, the seller's country
    tax_id        text NOT NULL DEFAULT '',
    logo          bytea,                             -- PNG or JPEG, stored: nothing is fetched when rendering
    logo_type     text NOT NULL DEFAULT '' CHECK (logo_type IN ('','png','jpg')),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE invoice_sequences (
    merchant_id  text NOT NULL REFERENCES merchants(id),
    mode         text NOT NULL CHECK (mode IN ('sandbox','live')),
    kind         text NOT NULL CHECK (kind IN ('invoice','credit_note')),
    next         bigint NOT NULL DEFAULT 1 CHECK (next >= 1),
    PRIMARY KEY (merchant_id, mode, kind)
);

CREATE TABLE invoices (
    id              text PRIMARY KEY,                -- in_
    merchant_id     text NOT NULL REFERENCES merchants(id),
    mode            text NOT NULL CHECK (mode IN ('sandbox','live')),
    status          text NOT NULL CHECK (status IN ('draft','open','paid','void','uncollectible')),
    number          text,                            -- NULL while a draft
    seq             bigint,                          -- the number's place in its sequence
    transaction_id  text NOT NULL UNIQUE REFERENCES transactions(id), -- exactly one per charge
    purchase_id     text,
    customer_id     text,
    currency        text NOT NULL,
    subtotal        bigint NOT NULL,
    tax             bigint NOT NULL DEFAULT 0,
    total           bigint NOT NULL,
    tax_note        text NOT NULL DEFAULT '',
    seller          jsonb NOT NULL,                  -- the merchant's details when issued
    buyer           jsonb NOT NULL,                  -- the customer's details when issued
    paper_size      text NOT NULL DEFAULT 'A4',
    token           text NOT NULL UNIQUE,            -- the hosted page's unguessable id
    issued_at       timestamptz,                     -- on the purchase's clock
    paid_at         timestamptz,
    voided_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'draft') = (number IS NULL)),
    UNIQUE (merchant_id, mode, number)
);
CREATE INDEX invoices_list ON invoices (merchant_id, mode, created_at DESC, id DESC);
CREATE INDEX invoices_customer ON invoices (merchant_id, customer_id, created_at DESC);
CREATE INDEX invoices_purchase ON invoices (merchant_id, purchase_id, created_at DESC);

CREATE TABLE invoice_lines (
    invoice_id     text NOT NULL REFERENCES invoices(id),
    position       int NOT NULL,
    description    text NOT NULL,
    period         int NOT NULL DEFAULT 0,
    period_start   timestamptz,
    period_end     timestamptz,
    quantity       bigint NOT NULL DEFAULT 1,
    unit_amount    bigint NOT NULL,
    amount         bigint NOT NULL,                  -- before tax
    tax_rate_bp    int NOT NULL DEFAULT 0,
    tax            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (invoice_id, position)
);

CREATE TABLE credit_notes (
    id              text PRIMARY KEY,                -- cn_
    merchant_id     text NOT NULL REFERENCES merchants(id),
    mode            text NOT NULL CHECK (mode IN ('sandbox','live')),
    number          text NOT NULL,
    seq             bigint NOT NULL,
    invoice_id      text NOT NULL REFERENCES invoices(id),
    transaction_id  text NOT NULL UNIQUE REFERENCES transactions(id), -- the refund
    purchase_id     text,
    customer_id     text,
    currency        text NOT NULL,
    subtotal        bigint NOT NULL,
    tax             bigint NOT NULL DEFAULT 0,
    total           bigint NOT NULL,
    reason          text NOT NULL DEFAULT '',
    token           text NOT NULL UNIQUE,
    issued_at       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, mode, number)
);
CREATE INDEX credit_notes_list ON credit_notes (merchant_id, mode, created_at DESC, id DESC);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);

-- Tax rates per merchant: the rate of the customer's country applies.
CREATE TABLE tax_rates (
    id            text PRIMARY KEY,                  -- txr_
    merchant_id   text NOT NULL REFERENCES merchants(id),
    name          text NOT NULL,
    basis_points  int NOT NULL CHECK (basis_points BETWEEN 0 AND 10000), -- 1900 = 19 %
    country       text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    inclusive     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE UNIQUE INDEX tax_rates_country ON tax_rates (merchant_id, country) WHERE deleted_at IS NULL;

-- The tax inside a payment's amount, fixed when the charge was asked (the rate may change
-- before the payment settles): the invoice splits the amount charged by it.
CREATE TABLE transaction_taxes (
    transaction_id  text PRIMARY KEY REFERENCES transactions(id),
    tax             bigint NOT NULL CHECK (tax >= 0),
    basis_points    int NOT NULL,
    inclusive       boolean NOT NULL,
    note            text NOT NULL DEFAULT ''          -- the reverse-charge note, when tax is 0 for it
);

-- +goose Down
DROP TABLE transaction_taxes;
DROP TABLE tax_rates;
DROP TABLE credit_notes;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_sequences;
DROP TABLE invoice_settings;
