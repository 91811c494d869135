/**
 * Recommendation ids: what an answer is called, and what a play names to say where it came from.
 * `r` + the serving time (9 base-36 digits of epoch milliseconds, fixed width so ids sort by time)
 * + 10 random base-36 digits. The time in the id lets the attributor read one listener's lists
 * within a window as a key range; the randomness keeps ids unguessable enough not to collide.
 */

export const RECOMMENDATION_ID_PATTERN = /^r[0-9a-z]{9}[0-9a-z]{10}$/;
const TIME_DIGITS = 9;
const RANDOM_DIGITS = 10;

/** A new id for an answer served at `nowMs`; `random` returns [0, 1) (Math.random by default). */
export function newRecommendationId(nowMs: number, random: () => number = Math.random): string {
  let tail = '';
  for (let i = 0; i < RANDOM_DIGITS; i++) tail += Math.floor(random() * 36).toString(36);
  return `r${timeKey(nowMs)}${tail}`;
}

/** The id's time prefix for `ms`: every id served at or after `ms` sorts at or after it. */
export function timeKey(ms: number): string {
  return `${Math.max(0, Math.floor(ms)).toString(36).padStart(TIME_DIGITS, '0')}`;
}

/** The lowest id served at or after `ms` (a Query's lower bound). */
export const firstIdAt = (ms: number): string => `r${timeKey(ms)}`;

export const isRecommendationId = (s: string): boolean => RECOMMENDATION_ID_PATTERN.test(s);

/** When the answer was served (epoch ms), or undefined for a malformed id. */
export function servedAtOf(id: string): number | undefined {
  if (!isRecommendationId(id)) return undefined;
  return Number.parseInt(id.slice(1, 1 + TIME_DIGITS), 36);
}
