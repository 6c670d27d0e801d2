-- +goose Up
-- What the API asked of each purchase workflow, recorded before it asked (store/grants.go): the
-- terms a purchase is bought on and each refund request. The charge and refund activities refuse
-- anything not recorded here, so a workflow started or updated around the API moves no money.
CREATE TABLE purchase_grants (
    purchase_id  text NOT NULL,
    kind         text NOT NULL,
    key          text NOT NULL,
    merchant_id  text NOT NULL,
    detail       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purchase_id, kind, key)
);

-- +goose Down
DROP TABLE purchase_grants;
