/**
 * How much one listen event says about taste — the single place that decides it.
 *
 * - play: by completion ratio c = msPlayed / durationMs (clamped to [0, 1]):
 *   `playBase + playCompletion · c` (a full play = 1). Without both numbers, `playDefault`.
 *   A play shorter than `shortPlayMs` counts `shortPlay` (unless the whole track was that short
 *   and mostly played).
 * - skip: `skip` (small negative); like: `like` (strongly positive); dislike: `dislike` (negative).
 * - rating (0–5), when present, replaces the type weight: `ratingScale · (rating − 2.5) / 2.5`,
 *   so 5★ = +ratingScale, 2.5★ = 0, 0★ = −ratingScale.
 */
import type { ListenEventV1 } from '../events/events.ts';

export interface WeightConfig {
  playDefault: number;
  playBase: number;
  playCompletion: number;
  shortPlayMs: number;
  shortPlay: number;
  skip: number;
  like: number;
  dislike: number;
  ratingScale: number;
}

export const DEFAULT_WEIGHTS: Readonly<WeightConfig> = Object.freeze({
  playDefault: 0.7,
  playBase: 0.2,
  playCompletion: 0.8,
  shortPlayMs: 30_000,
  shortPlay: 0.05,
  skip: -0.3,
  like: 2,
  dislike: -1.5,
  ratingScale: 2,
});

export type WeightedEvent = Pick<ListenEventV1, 'type' | 'msPlayed' | 'durationMs' | 'rating'>;

export function eventWeight(event: WeightedEvent, config: Readonly<WeightConfig> = DEFAULT_WEIGHTS): number {
  if (event.rating !== undefined) return (config.ratingScale * (event.rating - 2.5)) / 2.5;
  switch (event.type) {
    case 'play':
      return playWeight(event.msPlayed, event.durationMs, config);
    case 'skip':
      return config.skip;
    case 'like':
      return config.like;
    case 'dislike':
      return config.dislike;
    default:
      return 0;
  }
}

function playWeight(msPlayed: number | undefined, durationMs: number | undefined, c: Readonly<WeightConfig>): number {
  if (msPlayed === undefined) return c.playDefault;
  if (durationMs === undefined || !(durationMs > 0)) return msPlayed < c.shortPlayMs ? c.shortPlay : c.playDefault;
  const ratio = msPlayed >= durationMs ? 1 : msPlayed / durationMs;
  if (msPlayed < c.shortPlayMs && !(durationMs <= c.shortPlayMs && ratio >= 0.9)) return c.shortPlay;
  return c.playBase + c.playCompletion * ratio;
}
