-- The items that feed the co-listening pairs (each user's strongest {{pair_top_n}} per kind),
-- numbered: the pair pass groups and joins integers, not ids (a third of its time on strings).
-- Numbers follow (kind, item_id), so ordering neighbours by number within a kind is ordering them
-- by id (the tie rule). degree = the users with the item among their strongest.
SELECT
  kind,
  item_id,
  ROW_NUMBER() OVER (ORDER BY kind, item_id) AS item_no,
  CAST(count(*) AS DOUBLE) AS degree
FROM user_items
WHERE item_rank <= {{pair_top_n}}
GROUP BY kind, item_id
