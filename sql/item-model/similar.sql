-- Co-listening neighbours (RP3beta, Paudel et al.; shared/domain/item-neighbors.ts):
--   W[i, j] = Σ_{u ∋ i, j} (1 / deg(i))^α · (1 / |u|)^α · deg(j)^−β      (i ≠ j)
-- over each user's strongest {{pair_top_n}} items (the pair pass costs Σ|u|², so |u| is bounded),
-- pairs seen by fewer than {{min_support}} users dropped, each item's {{top_k}} largest kept
-- (ties by id). Weights are rounded to 15 decimals: a parallel sum's last bits depend on the
-- order, and equal weights must tie (and break by id) in every run, or an unchanged archive
-- would rewrite lists.
WITH basket AS (
  SELECT kind, user_id, item_id
  FROM user_items
  WHERE item_rank <= {{pair_top_n}}
),
degree AS (
  SELECT kind, item_id, CAST(count(*) AS DOUBLE) AS d
  FROM basket
  GROUP BY kind, item_id
),
user_step AS (
  SELECT kind, user_id, power(1.0 / CAST(count(*) AS DOUBLE), {{alpha}}) AS step
  FROM basket
  GROUP BY kind, user_id
),
pairs AS (
  SELECT a.kind, a.item_id AS i, b.item_id AS j, sum(s.step) AS walk, count(*) AS support
  FROM basket a
  JOIN basket b ON b.kind = a.kind AND b.user_id = a.user_id AND b.item_id <> a.item_id
  JOIN user_step s ON s.kind = a.kind AND s.user_id = a.user_id
  GROUP BY a.kind, a.item_id, b.item_id
),
scored AS (
  SELECT p.kind, p.i, p.j, round(p.walk * power(1.0 / di.d, {{alpha}}) * power(dj.d, -{{beta}}), 15) AS w
  FROM pairs p
  JOIN degree di ON di.kind = p.kind AND di.item_id = p.i
  JOIN degree dj ON dj.kind = p.kind AND dj.item_id = p.j
  WHERE p.support >= {{min_support}}
),
ranked AS (
  SELECT kind, i, j, w, ROW_NUMBER() OVER (PARTITION BY kind, i ORDER BY w DESC, j) AS neighbor_rank
  FROM scored
)
SELECT kind, i AS item_id, j AS neighbor_id, w AS weight, neighbor_rank
FROM ranked
WHERE neighbor_rank <= {{top_k}}
