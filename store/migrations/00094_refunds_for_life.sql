-- +goose Up
-- Refunds work for the life of a payment: while the processor accepts them (180 days for card
-- payments at Stripe, and in the sandbox), also after the purchase's workflow has closed.

-- When a transaction's money moved on the purchase's clock, which is the processor's: a sandbox
-- purchase's test clock runs ahead of created_at. The refund window counts from it.
ALTER TABLE transactions ADD COLUMN occurred_at timestamptz;
UPDATE transactions SET occurred_at = created_at;
ALTER TABLE transactions ALTER COLUMN occurred_at SET DEFAULT now(), ALTER COLUMN occurred_at SET NOT NULL;

-- How far a sandbox purchase's test clock runs ahead of real time, as the last advance left it,
-- so the purchase's clock is still known once its workflow has closed.
ALTER TABLE purchases ADD COLUMN clock_offset_ms bigint NOT NULL DEFAULT 0;

-- The sandbox processor's charges carry their time on the customer's clock (a test clock runs
-- ahead), from which it counts its refund window as Stripe does.
ALTER TABLE sandbox_charges ADD COLUMN charged_at timestamptz;
UPDATE sandbox_charges SET charged_at = created_at;
ALTER TABLE sandbox_charges ALTER COLUMN charged_at SET DEFAULT now(), ALTER COLUMN charged_at SET NOT NULL;

-- The refunds of a payment never add up to more than it, whoever writes them and however many
-- at once: a refund (pending, the reservation made before the processor is called, or
-- succeeded) locks its payment's row, so the refunds of one payment are checked one after the
-- other. A row with the same idempotency key is the same refund (a retried insert), not another.
-- +goose StatementBegin
CREATE FUNCTION refunds_within_payment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paid bigint;
    refunded bigint;
BEGIN
    IF NEW.kind <> 'refund' OR NEW.status = 'failed' THEN
        RETURN NEW;
    END IF;
    SELECT amount INTO paid FROM transactions
        WHERE id = NEW.source_id AND merchant_id = NEW.merchant_id AND kind = 'payment' AND status = 'succeeded'
        FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refund % is not of a succeeded payment (%)', NEW.id, NEW.source_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_of_payment';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO refunded FROM transactions
        WHERE source_id = NEW.source_id AND kind = 'refund' AND status <> 'failed'
            AND id <> NEW.id AND idempotency_key <> NEW.idempotency_key;
    IF refunded + NEW.amount > paid THEN
        RAISE EXCEPTION 'refunds of % would add up to % of the % paid', NEW.source_id, refunded + NEW.amount, paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refunds_within_payment';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER refunds_within_payment BEFORE INSERT OR UPDATE OF amount, status, source_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION refunds_within_payment();

-- +goose Down
DROP TRIGGER refunds_within_payment ON transactions;
DROP FUNCTION refunds_within_payment();
ALTER TABLE sandbox_charges DROP COLUMN charged_at;
ALTER TABLE purchases DROP COLUMN clock_offset_ms;
ALTER TABLE transactions DROP COLUMN occurred_at;
