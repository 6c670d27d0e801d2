-- +goose Up
-- The default dunning schedule makes every state last (issue 12): with retries at +1, +3, +5 and
-- +7 days a grace period of 7 days ended at the last retry, so suspended lasted no time. Grace
-- is now 3 days: past_due for 3 days, suspended for 4, then expired. Merchants still on the old
-- default (no one could set a schedule before) move to the new one.
ALTER TABLE merchants ALTER COLUMN grace_period_days SET DEFAULT 3;
UPDATE merchants SET grace_period_days = 3 WHERE grace_period_days = 7 AND dunning_retry_days = '{1,3,5,7}';

-- +goose Down
ALTER TABLE merchants ALTER COLUMN grace_period_days SET DEFAULT 7;
