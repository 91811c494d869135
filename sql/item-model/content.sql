-- Content neighbours from the catalog's tag counts (shared/domain/item-model/item-neighbors.ts's
-- tagVectors + contentNeighborLists): TF-IDF log(1 + count) · log(N / df(tag)) over the N items
-- with tags, L2-normalized; an item's {{content_k}} items of highest cosine (ties by id). Only
-- each item's strongest {{content_tags}} tags join (a tag shared by thousands of items would make
-- the pair pass quadratic); the norms use all of an item's tags. Cosines are rounded to 15
-- decimals so that a parallel sum's last bits cannot reorder ties between runs. One row per item
-- with its neighbours in rank order.
-- Table: item_tags (kind, item_id, tag, tag_count): one row per catalog item and tag.
WITH tagged AS (
  SELECT kind, item_id, tag, CAST(tag_count AS DOUBLE) AS c
  FROM item_tags
  WHERE tag_count > 0
),
items AS (
  SELECT kind, CAST(count(DISTINCT item_id) AS DOUBLE) AS n
  FROM tagged
  GROUP BY kind
),
df AS (
  SELECT kind, tag, CAST(count(*) AS DOUBLE) AS df
  FROM tagged
  GROUP BY kind, tag
),
tfidf AS (
  SELECT t.kind, t.item_id, t.tag, ln(1.0 + t.c) * ln(n.n / df.df) AS x
  FROM tagged t
  JOIN items n ON n.kind = t.kind
  JOIN df ON df.kind = t.kind AND df.tag = t.tag
),
positive AS (
  SELECT kind, item_id, tag, x,
    ROW_NUMBER() OVER (PARTITION BY kind, item_id ORDER BY x DESC, tag) AS tag_rank
  FROM tfidf
  WHERE x > 0
),
norms AS (
  SELECT kind, item_id, sqrt(sum(x * x)) AS norm
  FROM positive
  GROUP BY kind, item_id
),
vectors AS (
  SELECT p.kind, p.item_id, p.tag, p.x / nn.norm AS v
  FROM positive p
  JOIN norms nn ON nn.kind = p.kind AND nn.item_id = p.item_id
  WHERE p.tag_rank <= {{content_tags}}
),
cosines AS (
  SELECT a.kind, a.item_id AS i, b.item_id AS j, round(sum(a.v * b.v), 15) AS w
  FROM vectors a
  JOIN vectors b ON b.kind = a.kind AND b.tag = a.tag AND b.item_id <> a.item_id
  GROUP BY a.kind, a.item_id, b.item_id
),
ranked AS (
  SELECT kind, i, j, w, ROW_NUMBER() OVER (PARTITION BY kind, i ORDER BY w DESC, j) AS neighbor_rank
  FROM cosines
  WHERE w > 0
)
SELECT
  kind,
  i AS item_id,
  array_agg(j ORDER BY neighbor_rank) AS neighbor_ids,
  array_agg(w ORDER BY neighbor_rank) AS weights
FROM ranked
WHERE neighbor_rank <= {{content_k}}
GROUP BY kind, i
