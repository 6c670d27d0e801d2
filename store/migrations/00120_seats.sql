-- +goose Up
-- Seats (issue 13): a plan may be priced per seat, and may scale its usage limit with the seats;
-- a purchase has a quantity (1 unless its plan is per seat), projected from its workflow.
ALTER TABLE plans ADD COLUMN per_seat boolean NOT NULL DEFAULT false;
ALTER TABLE plans ADD COLUMN limits_per_seat boolean NOT NULL DEFAULT false;
ALTER TABLE purchases ADD COLUMN quantity bigint NOT NULL DEFAULT 1 CHECK (quantity >= 1);

-- A change of seats moves a per-seat limit: the usage fast path must read the purchase again.
DROP TRIGGER purchases_usage_version_update ON purchases;
CREATE TRIGGER purchases_usage_version_update AFTER UPDATE ON purchases FOR EACH ROW
    WHEN ((OLD.customer_id, OLD.product_id, OLD.plan_id, OLD.status, OLD.current_period_start, OLD.current_period_end,
           OLD.created_at, OLD.quantity)
          IS DISTINCT FROM
          (NEW.customer_id, NEW.product_id, NEW.plan_id, NEW.status, NEW.current_period_start, NEW.current_period_end,
           NEW.created_at, NEW.quantity))
    EXECUTE FUNCTION tollgate_usage_version_bump('customers', 'customer_id');

-- +goose Down
DROP TRIGGER purchases_usage_version_update ON purchases;
CREATE TRIGGER purchases_usage_version_update AFTER UPDATE ON purchases FOR EACH ROW
    WHEN ((OLD.customer_id, OLD.product_id, OLD.plan_id, OLD.status, OLD.current_period_start, OLD.current_period_end,
           OLD.created_at)
          IS DISTINCT FROM
          (NEW.customer_id, NEW.product_id, NEW.plan_id, NEW.status, NEW.current_period_start, NEW.current_period_end,
           NEW.created_at))
    EXECUTE FUNCTION tollgate_usage_version_bump('customers', 'customer_id');
ALTER TABLE purchases DROP COLUMN quantity;
ALTER TABLE plans DROP COLUMN limits_per_seat;
ALTER TABLE plans DROP COLUMN per_seat;
