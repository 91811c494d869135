-- Listeners active within {{active_ms}} ms of the newest archived event, newest first, at most
-- {{max_users}}: a new build is announced for them so their candidate sets are rebuilt at once.
-- Only the build's window of hour partitions is read (as in user_items.sql).
WITH windowed AS (
  SELECT userId, ts
  FROM events
  WHERE year BETWEEN {{window_from_year}} AND {{window_to_year}}
    AND concat(year, month, day, hour) BETWEEN {{window_from_hour}} AND {{window_to_hour}}
),
newest AS (
  SELECT max(ts) AS ref_ts FROM windowed
),
last_seen AS (
  SELECT e.userId AS user_id, max(e.ts) AS last_ts
  FROM windowed e
  LEFT JOIN deletions d ON d.userId = e.userId
  WHERE e.userId IS NOT NULL AND (d.deletedAt IS NULL OR e.ts > d.deletedAt)
  GROUP BY e.userId
)
SELECT l.user_id, l.last_ts
FROM last_seen l
CROSS JOIN newest n
WHERE l.last_ts >= n.ref_ts - {{active_ms}}
ORDER BY l.last_ts DESC, l.user_id
LIMIT {{max_users}}
