-- Each user's basket per kind for the pair pass, numbered (pair_items.sql): one row per
-- (user and kind, item) with the user's random-walk step (1 / |u|)^α. A user is numbered once
-- per kind, so pairs never cross kinds.
WITH numbered_users AS (
  SELECT
    kind,
    user_id,
    ROW_NUMBER() OVER (ORDER BY kind, user_id) AS user_no,
    power(1.0 / CAST(count(*) AS DOUBLE), {{alpha}}) AS step
  FROM user_items
  WHERE item_rank <= {{pair_top_n}}
  GROUP BY kind, user_id
)
SELECT nu.user_no, pi.item_no, nu.step
FROM user_items ui
JOIN numbered_users nu ON nu.kind = ui.kind AND nu.user_id = ui.user_id
JOIN pair_items pi ON pi.kind = ui.kind AND pi.item_id = ui.item_id
WHERE ui.item_rank <= {{pair_top_n}}
