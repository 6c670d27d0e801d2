package usage

import "github.com/tollgate-billing/tollgate/store"

// resolveBulkSQL resolves a batch set by set, for recordBatch (bulk_copy.go): a batch of
// 1,000 events often names 1,000 different customers, and per-pair correlated lookups (customer
// by reference, then by externalRef, live purchase, plan, default plan) cost about 40 µs a pair.
// Here each lookup is one join over all pairs, the product checks run once per distinct product
// and the meter rule's lookups once per distinct meter/actionType. It answers, per event in
// order, the resolution and the reference already stored under its idempotency key (NULL when
// new). $1 is the merchant, $2–$11 the events' columns, $12 the default meters, $13 the default
// plan meter.
var resolveBulkSQL = `
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                       $9::text[], $10::timestamptz[], $11::text[])
    WITH ORDINALITY AS t(id, customer_ref, product_ref, meter, action_type, units, outcome, idempotency_key,
                         occurred_at, metadata, ord)
), pairs AS MATERIALIZED (
  SELECT DISTINCT customer_ref, product_ref FROM input
), prods AS MATERIALIZED (
  SELECT pp.product_ref,
    (pp.product_ref = '' OR EXISTS (SELECT 1 FROM products p WHERE p.merchant_id = $1 AND p.id = pp.product_ref
                                    AND p.deleted_at IS NULL)) AS product_ok,
    (SELECT d.id FROM plans d WHERE d.merchant_id = $1 AND d.product_id = pp.product_ref AND d.is_default
     AND d.deleted_at IS NULL) AS default_plan
  FROM (SELECT DISTINCT product_ref FROM pairs) pp
), cust AS MATERIALIZED (
  SELECT pr.customer_ref, pr.product_ref, coalesce(c1.id, c2.id) AS customer_id
  FROM pairs pr
  LEFT JOIN customers c1 ON c1.id = pr.customer_ref AND c1.merchant_id = $1 AND c1.deleted_at IS NULL
  LEFT JOIN customers c2 ON c2.merchant_id = $1 AND c2.external_ref = pr.customer_ref AND c2.deleted_at IS NULL
), pu AS MATERIALIZED (
  SELECT DISTINCT ON (p.customer_id, p.product_id) p.customer_id, p.product_id, p.plan_id, p.current_period_start
  FROM purchases p JOIN (SELECT DISTINCT customer_id, product_ref FROM cust WHERE customer_id IS NOT NULL) k
    ON p.customer_id = k.customer_id AND p.product_id = k.product_ref
  WHERE p.merchant_id = $1 AND p.status IN ` + store.LiveStatuses + `
  ORDER BY p.customer_id, p.product_id, p.created_at DESC, p.id DESC
), resolved AS MATERIALIZED (
  SELECT c.customer_ref, c.product_ref, c.customer_id, d.product_ok, pu.current_period_start AS purchase_start,
    coalesce(nullif(pl.meter_name, ''), $13) AS plan_meter
  FROM cust c
  JOIN prods d ON d.product_ref = c.product_ref
  LEFT JOIN pu ON pu.customer_id = c.customer_id AND pu.product_id = c.product_ref
  LEFT JOIN plans pl ON pl.id = coalesce(pu.plan_id, d.default_plan)
), kinds AS MATERIALIZED (
  SELECT k.meter, k.action_type,
    (k.meter = '' OR k.meter = ANY($12::text[]) OR k.meter LIKE 'tool:_%'
      OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = k.meter)) AS meter_ok,
    (k.action_type = ANY($12::text[]) OR k.action_type LIKE 'tool:_%'
      OR EXISTS (SELECT 1 FROM meters m WHERE m.merchant_id = $1 AND m.name = k.action_type)) AS action_is_meter
  FROM (SELECT DISTINCT meter, action_type FROM input) k
), evs AS MATERIALIZED (
  SELECT i.*, r.customer_id, r.product_ok, k.meter_ok,
    CASE WHEN i.meter <> '' THEN i.meter WHEN k.action_is_meter THEN i.action_type ELSE r.plan_meter END AS meter_name,
    ` + periodRule("i.occurred_at", "r.purchase_start") + ` AS period_start
  -- LEFT joins (every event has exactly one row in each): with inner joins on two columns the
  -- planner guessed a handful of rows here and chose nested loops over the 1,000 events
  FROM input i
  LEFT JOIN resolved r ON r.customer_ref = i.customer_ref AND r.product_ref = i.product_ref
  LEFT JOIN kinds k ON k.meter = i.meter AND k.action_type = i.action_type
)
SELECT e.ord, coalesce(e.customer_id, ''), e.product_ok, e.meter_ok, e.meter_name, e.period_start,
       (SELECT o.id FROM usage_events o WHERE o.merchant_id = $1 AND o.idempotency_key = e.idempotency_key)
FROM evs e ORDER BY e.ord`
