-- +goose Up
-- The whole data model of DESIGN.md "Data". Every object's primary key is its prefixed reference.
-- Money is bigint minor units beside an ISO 4217 currency.

CREATE TABLE merchants (
    id                   text PRIMARY KEY,             -- mer_
    name                 text NOT NULL,
    legal_name           text NOT NULL DEFAULT '',
    support_contact      text NOT NULL DEFAULT '',
    terms_url            text NOT NULL DEFAULT '',
    privacy_url          text NOT NULL DEFAULT '',
    icon_url             text NOT NULL DEFAULT '',
    logo_url             text NOT NULL DEFAULT '',
    default_currency     text NOT NULL DEFAULT 'USD',
    dunning_retry_days   int[] NOT NULL DEFAULT '{1,3,5,7}', -- days after the failed renewal
    grace_period_days    int NOT NULL DEFAULT 7,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_hash     bytea PRIMARY KEY,                    -- sha256 of the key; the key itself is never stored
    merchant_id  text NOT NULL REFERENCES merchants(id),
    mode         text NOT NULL CHECK (mode IN ('sandbox','live')),
    prefix       text NOT NULL,                        -- first characters, to recognise a key in a list
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE customers (
    id                      text PRIMARY KEY,          -- cus_
    merchant_id             text NOT NULL REFERENCES merchants(id),
    external_ref            text,                      -- the merchant's own id (Solvimon "reference", SDK "externalRef")
    email                   text NOT NULL DEFAULT '',
    name                    text NOT NULL DEFAULT '',
    type                    text NOT NULL DEFAULT 'INDIVIDUAL',
    status                  text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('DRAFT','ACTIVE')),
    timezone                text NOT NULL DEFAULT '',
    roles                   text[] NOT NULL DEFAULT '{}',
    organization            jsonb,
    metadata                jsonb NOT NULL DEFAULT '{}',
    payment_method          text NOT NULL DEFAULT '',  -- default payment method (pm_…)
    card_brand              text NOT NULL DEFAULT '',
    card_last4              text NOT NULL DEFAULT '',
    card_exp_month          int NOT NULL DEFAULT 0,
    card_exp_year           int NOT NULL DEFAULT 0,
    processor_customer_id   text NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz
);
CREATE UNIQUE INDEX customers_external_ref ON customers (merchant_id, external_ref) WHERE deleted_at IS NULL AND external_ref IS NOT NULL;
CREATE INDEX customers_email ON customers (merchant_id, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX customers_list ON customers (merchant_id, created_at, id);

CREATE TABLE products (
    id           text PRIMARY KEY,                     -- prd_
    merchant_id  text NOT NULL REFERENCES merchants(id),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','archived')),
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE INDEX products_list ON products (merchant_id, created_at, id);

CREATE TABLE meters (
    id           text PRIMARY KEY,                     -- mtr_
    merchant_id  text NOT NULL REFERENCES merchants(id),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, name)
);

CREATE TABLE plans (
    id             text PRIMARY KEY,                   -- pln_
    merchant_id    text NOT NULL REFERENCES merchants(id),
    product_id     text NOT NULL REFERENCES products(id),
    name           text NOT NULL,
    type           text NOT NULL CHECK (type IN ('recurring','usage-based','hybrid','one-time','free')),
    price          bigint NOT NULL DEFAULT 0 CHECK (price >= 0),
    currency       text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    billing_cycle  text NOT NULL DEFAULT '' CHECK (billing_cycle IN ('','weekly','monthly','quarterly','yearly','custom')),
    cycle_days     int NOT NULL DEFAULT 0,
    trial_days     int NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
    free_units     bigint NOT NULL DEFAULT 0 CHECK (free_units >= 0),
    usage_limit    bigint CHECK (usage_limit >= 0),
    unit_price     bigint NOT NULL DEFAULT 0 CHECK (unit_price >= 0),
    meter_name     text NOT NULL DEFAULT '',
    setup_fee      bigint NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
    access_days    int NOT NULL DEFAULT 0,
    features       text[] NOT NULL DEFAULT '{}',
    is_default     boolean NOT NULL DEFAULT false,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','archived')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX plans_one_default ON plans (product_id) WHERE is_default AND deleted_at IS NULL;
CREATE INDEX plans_product ON plans (product_id, created_at);

CREATE TABLE purchases (
    id                    text PRIMARY KEY,            -- pur_
    merchant_id           text NOT NULL REFERENCES merchants(id),
    customer_id           text NOT NULL REFERENCES customers(id),
    product_id            text NOT NULL REFERENCES products(id),
    plan_id               text NOT NULL REFERENCES plans(id),
    status                text NOT NULL,
    plan_name             text NOT NULL DEFAULT '',
    plan_type             text NOT NULL DEFAULT '',
    amount                bigint NOT NULL DEFAULT 0,
    currency              text NOT NULL DEFAULT 'USD',
    billing_cycle         text NOT NULL DEFAULT '',
    cancelled_at          timestamptz,
    cancel_reason         text NOT NULL DEFAULT '',
    started_at            timestamptz,
    current_period_start  timestamptz,
    current_period_end    timestamptz,
    next_billing_at       timestamptz,
    trial_end             timestamptz,
    ended_at              timestamptz,
    period                int NOT NULL DEFAULT 0,
    paid_total            bigint NOT NULL DEFAULT 0,
    refunded_total        bigint NOT NULL DEFAULT 0,
    sandbox               boolean NOT NULL DEFAULT true,
    seq                   bigint NOT NULL DEFAULT 0,   -- workflow sequence of the last write; older writes are ignored
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purchases_customer ON purchases (merchant_id, customer_id, created_at);
CREATE INDEX purchases_product ON purchases (merchant_id, product_id, created_at);
CREATE INDEX purchases_status ON purchases (merchant_id, status, created_at);
-- the hot path looks up the live purchase of a customer for a product
CREATE INDEX purchases_access ON purchases (customer_id, product_id) WHERE status IN ('pending','trialing','active','past_due','suspended');

CREATE TABLE transactions (
    id                text PRIMARY KEY,                -- txn_
    merchant_id       text NOT NULL REFERENCES merchants(id),
    kind              text NOT NULL CHECK (kind IN ('payment','refund')),
    status            text NOT NULL CHECK (status IN ('succeeded','failed','pending')),
    amount            bigint NOT NULL CHECK (amount >= 0),
    currency          text NOT NULL,
    purchase_id       text REFERENCES purchases(id),
    customer_id       text REFERENCES customers(id),
    product_id        text REFERENCES products(id),
    source_id         text REFERENCES transactions(id), -- refunds: the payment refunded
    period            int NOT NULL DEFAULT 0,
    reason            text NOT NULL DEFAULT '',
    failure_code      text NOT NULL DEFAULT '',
    failure_message   text NOT NULL DEFAULT '',
    idempotency_key   text NOT NULL,                   -- from business data, never from attempt numbers
    processor         text NOT NULL DEFAULT '',
    processor_ref     text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX transactions_list ON transactions (merchant_id, created_at, id);
CREATE INDEX transactions_purchase ON transactions (purchase_id);
CREATE INDEX transactions_source ON transactions (source_id) WHERE source_id IS NOT NULL;

CREATE TABLE usage_events (
    id               text PRIMARY KEY,                 -- usage_
    merchant_id      text NOT NULL REFERENCES merchants(id),
    customer_id      text NOT NULL,
    product_id       text NOT NULL DEFAULT '',
    meter_name       text NOT NULL,
    action_type      text NOT NULL DEFAULT '',
    units            bigint NOT NULL CHECK (units >= 0),
    outcome          text NOT NULL DEFAULT 'success',
    idempotency_key  text NOT NULL,
    occurred_at      timestamptz NOT NULL,
    metadata         jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, idempotency_key)
);

CREATE TABLE usage_counters (
    merchant_id   text NOT NULL,
    customer_id   text NOT NULL,
    product_id    text NOT NULL,
    meter_name    text NOT NULL,
    period_start  timestamptz NOT NULL,
    units         bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, customer_id, product_id, meter_name, period_start)
);

CREATE TABLE checkout_sessions (
    id            text PRIMARY KEY,                    -- cs_ (unguessable)
    merchant_id   text NOT NULL REFERENCES merchants(id),
    customer_id   text NOT NULL REFERENCES customers(id),
    product_id    text NOT NULL REFERENCES products(id),
    plan_id       text NOT NULL REFERENCES plans(id),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open','complete','expired')),
    return_url    text NOT NULL DEFAULT '',
    purchase_id   text,
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer_sessions (
    id            text PRIMARY KEY,                    -- ps_ (unguessable)
    merchant_id   text NOT NULL REFERENCES merchants(id),
    customer_id   text NOT NULL REFERENCES customers(id),
    return_url    text NOT NULL DEFAULT '',
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_records (
    merchant_id    text NOT NULL,
    key            text NOT NULL,
    method         text NOT NULL,
    path           text NOT NULL,
    request_hash   bytea NOT NULL,
    status_code    int,                                -- NULL while the first request is in flight
    response_body  bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_records_age ON idempotency_records (created_at);

CREATE TABLE webhook_endpoints (
    id            text PRIMARY KEY,                    -- we_
    merchant_id   text NOT NULL REFERENCES merchants(id),
    url           text NOT NULL,
    secret        text NOT NULL,
    events        text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints(id),
    event_id        text NOT NULL,                     -- evt_
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending',
    attempts        int NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (endpoint_id, event_id)
);

CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    merchant_id   text NOT NULL,
    object_type   text NOT NULL,
    object_id     text NOT NULL,
    action        text NOT NULL,
    from_status   text NOT NULL DEFAULT '',
    to_status     text NOT NULL DEFAULT '',
    seq           bigint NOT NULL DEFAULT 0,
    actor         text NOT NULL DEFAULT '',
    data          jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_object ON audit_log (object_id, id);
-- one audit row per workflow step, even when the activity that writes it is retried
CREATE UNIQUE INDEX audit_log_step ON audit_log (object_id, seq, action) WHERE seq > 0;

-- +goose Down
DROP TABLE audit_log, webhook_deliveries, webhook_endpoints, idempotency_records, customer_sessions,
    checkout_sessions, usage_counters, usage_events, transactions, purchases, plans, meters, products,
    customers, api_keys, merchants;
