-- Co-listening neighbours (RP3beta, Paudel et al.; shared/domain/item-model/item-neighbors.ts):
--   W[i, j] = Σ_{u ∋ i, j} (1 / deg(i))^α · (1 / |u|)^α · deg(j)^−β      (i ≠ j)
-- over each user's strongest {{pair_top_n}} items (pair_basket.sql: the pair pass costs Σ|u|², so
-- |u| is bounded), pairs seen by fewer than {{min_support}} users dropped, each item's {{top_k}}
-- largest kept (ties by id), one row per item with its neighbours in rank order.
-- The pass covers the items i with i mod {{pair_buckets}} = {{pair_bucket}}: Athena runs it whole
-- (1 bucket, distributed); DuckDB on one machine runs as many buckets as its memory needs, each
-- aggregating its share of the pairs. Weights are rounded to 15 decimals: a parallel sum's last
-- bits depend on the order, and equal weights must tie (and break by id) in every run, or an
-- unchanged archive would rewrite lists.
WITH pairs AS (
  SELECT a.item_no AS i, b.item_no AS j, sum(a.step) AS walk, count(*) AS support
  FROM pair_basket a
  JOIN pair_basket b ON b.user_no = a.user_no AND b.item_no <> a.item_no
  WHERE a.item_no % {{pair_buckets}} = {{pair_bucket}}
  GROUP BY a.item_no, b.item_no
),
scored AS (
  SELECT p.i, p.j, round(p.walk * power(1.0 / di.degree, {{alpha}}) * power(dj.degree, -{{beta}}), 15) AS w
  FROM pairs p
  JOIN pair_items di ON di.item_no = p.i
  JOIN pair_items dj ON dj.item_no = p.j
  WHERE p.support >= {{min_support}}
),
ranked AS (
  SELECT i, j, w, ROW_NUMBER() OVER (PARTITION BY i ORDER BY w DESC, j) AS neighbor_rank
  FROM scored
)
SELECT
  it.kind,
  it.item_id,
  array_agg(jt.item_id ORDER BY r.neighbor_rank) AS neighbor_ids,
  array_agg(r.w ORDER BY r.neighbor_rank) AS weights
FROM ranked r
JOIN pair_items it ON it.item_no = r.i
JOIN pair_items jt ON jt.item_no = r.j
WHERE r.neighbor_rank <= {{top_k}}
GROUP BY it.kind, it.item_id
