/**
 * 95 % intervals for the panel's rates: Wilson's score interval, which stays inside [0, 1] and is
 * honest at small counts and rates near 0 (where the normal approximation gives negative bounds).
 */

const Z95 = 1.959963984540054;

export interface RateInterval {
  rate: number;
  low: number;
  high: number;
}

/** Rate of `hits` in `n` trials with its 95 % Wilson interval; n = 0 gives [0, 1]. */
export function wilson(hits: number, n: number, z = Z95): RateInterval {
  if (n <= 0) return { rate: 0, low: 0, high: 1 };
  const p = hits / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Whether two intervals are apart (no overlap): the panel's "the variants differ". */
export const apart = (a: RateInterval, b: RateInterval): boolean => a.high < b.low || b.high < a.low;
