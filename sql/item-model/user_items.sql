-- Each listener's items by decayed weight, from the event archive: the input of every model part.
-- Tables: events (the archive: one row per archived listen event), deletions (forgotten listeners).
-- One row per (kind, user, item) among the user's top {{top_n}} items of positive weight, where
-- weight = Σ eventWeight · 2^((ts − newest ts) / half-life) over the user's events of that item.
-- The event weight is shared/domain/profile/weights.ts's `eventWeight` as one CASE expression; the decay
-- is relative to the newest archived event, so a listener's ranking does not depend on the run time.
-- Duplicates (a retried batch archived twice) count once: the first copy per (user, eventId).
-- Only the build's window of hour partitions is read (shared/batch/window.ts): the year range
-- lets Athena's partition projection prune by column, the hour key selects the window's hours.
WITH windowed AS (
  SELECT userId, eventId, artistId, trackId, ts, type, msPlayed, durationMs, rating
  FROM events
  WHERE year BETWEEN {{window_from_year}} AND {{window_to_year}}
    AND concat(year, month, day, hour) BETWEEN {{window_from_hour}} AND {{window_to_hour}}
),
deduped AS (
  SELECT
    userId,
    artistId,
    trackId,
    ts,
    type,
    msPlayed,
    durationMs,
    rating,
    ROW_NUMBER() OVER (PARTITION BY userId, eventId ORDER BY ts, artistId, trackId) AS copy
  FROM windowed
  WHERE userId IS NOT NULL AND ts IS NOT NULL
),
newest AS (
  SELECT max(ts) AS ref_ts FROM windowed
),
weighted AS (
  SELECT
    e.userId AS user_id,
    e.artistId AS artist_id,
    e.trackId AS track_id,
    (CASE
      WHEN e.rating IS NOT NULL THEN {{rating_scale}} * (CAST(e.rating AS DOUBLE) - 2.5) / 2.5
      WHEN e.type = 'play' THEN (CASE
        WHEN e.msPlayed IS NULL THEN {{play_default}}
        WHEN e.durationMs IS NULL OR e.durationMs <= 0 THEN
          (CASE WHEN e.msPlayed < {{short_play_ms}} THEN {{short_play}} ELSE {{play_default}} END)
        WHEN e.msPlayed < {{short_play_ms}}
          AND NOT (e.durationMs <= {{short_play_ms}} AND e.msPlayed >= 0.9 * e.durationMs) THEN {{short_play}}
        ELSE {{play_base}} + {{play_completion}} * least(1.0, CAST(e.msPlayed AS DOUBLE) / CAST(e.durationMs AS DOUBLE))
      END)
      WHEN e.type = 'skip' THEN {{skip}}
      WHEN e.type = 'like' THEN {{like}}
      WHEN e.type = 'dislike' THEN {{dislike}}
      ELSE 0.0
    END) * exp((CAST(e.ts AS DOUBLE) - CAST(n.ref_ts AS DOUBLE)) * {{decay_per_ms}}) AS w
  FROM deduped e
  CROSS JOIN newest n
  LEFT JOIN deletions d ON d.userId = e.userId
  WHERE e.copy = 1 AND (d.deletedAt IS NULL OR e.ts > d.deletedAt)
),
scored AS (
  SELECT 'a' AS kind, user_id, artist_id AS item_id, sum(w) AS weight
  FROM weighted
  WHERE artist_id IS NOT NULL
  GROUP BY user_id, artist_id
  UNION ALL
  SELECT 't' AS kind, user_id, track_id AS item_id, sum(w) AS weight
  FROM weighted
  WHERE track_id IS NOT NULL
  GROUP BY user_id, track_id
),
ranked AS (
  SELECT
    kind,
    user_id,
    item_id,
    weight,
    ROW_NUMBER() OVER (PARTITION BY kind, user_id ORDER BY weight DESC, item_id) AS item_rank
  FROM scored
  WHERE weight > 0
)
SELECT kind, user_id, item_id, weight, item_rank
FROM ranked
WHERE item_rank <= {{top_n}}
