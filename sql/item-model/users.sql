-- Listeners per kind: users with at least one item of the kind among their top items (no sample).
SELECT kind, count(DISTINCT user_id) AS users
FROM user_items
GROUP BY kind
