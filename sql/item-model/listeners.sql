-- Listener counts: per item, the users with it among their top items (user_items.sql). The β
-- popularity penalty of the ranking and the basis of IDF weights.
SELECT kind, item_id, count(*) AS listeners
FROM user_items
GROUP BY kind, item_id
