/**
 * A served list: what one answer showed one listener. The read API writes it as one JSON log line
 * (`{"served": …}`, compact: ServedLine), the recorder produces it to `served-lists` as ServedListV1, the attributor keeps
 * it for the attribution window. Items are the answer's ids in order (position = index + 1).
 */
import { z } from 'zod';
import { RECOMMENDATION_ID_PATTERN, servedAtOf } from './recommendation-id.ts';

export const SERVED_ROUTES = ['recommendations', 'radio', 'similar-tracks', 'similar-artists'] as const;
export type ServedRoute = (typeof SERVED_ROUTES)[number];

export const ServedListV1 = z.object({
  v: z.literal(1),
  id: z.string().regex(RECOMMENDATION_ID_PATTERN, 'must be a recommendationId'),
  userId: z.string().min(1).max(128),
  route: z.enum(SERVED_ROUTES),
  kind: z.enum(['track', 'artist']),
  variant: z.string().min(1).max(32),
  strategy: z.string().min(1).max(32),
  /** Serving time, epoch ms. */
  ts: z.int().min(0),
  items: z.array(z.string().min(1).max(128)).max(100),
});
export type ServedListV1 = z.infer<typeof ServedListV1>;

/** The log field that marks served-list lines (topology `logSubscriptions`). */
export const SERVED_LIST_FIELD = 'served';

/**
 * The line's form: short keys and no time (the id carries it). CloudWatch Logs bills every byte
 * ($0.50/GB): the served list is most of what attribution costs per answer (BENCHMARKS.md,
 * attribution), so its line is compact; on Kafka it is the readable ServedListV1.
 */
export const ServedLine = z.object({
  v: z.literal(1),
  id: ServedListV1.shape.id,
  u: ServedListV1.shape.userId,
  r: ServedListV1.shape.route,
  k: ServedListV1.shape.kind,
  x: ServedListV1.shape.variant,
  s: ServedListV1.shape.strategy,
  i: ServedListV1.shape.items,
});
export type ServedLine = z.infer<typeof ServedLine>;

/** The one line an answer writes: JSON, no prefix, so CloudWatch's JSON filter pattern matches it. */
export const servedListLine = (list: ServedListV1): string =>
  `${JSON.stringify({
    [SERVED_LIST_FIELD]: {
      v: 1,
      id: list.id,
      u: list.userId,
      r: list.route,
      k: list.kind,
      x: list.variant,
      s: list.strategy,
      i: list.items,
    } satisfies ServedLine,
  })}\n`;

/** The served list a line describes (its time from its id). */
export function servedListOfLine(line: ServedLine): ServedListV1 {
  return {
    v: 1,
    id: line.id,
    userId: line.u,
    route: line.r,
    kind: line.k,
    variant: line.x,
    strategy: line.s,
    ts: servedAtOf(line.id) ?? 0,
    items: line.i,
  };
}

/**
 * 32-bit fingerprint of an item id (FNV-1a): a stored list holds its items as 4-byte numbers, ~5×
 * smaller than ids, so a listener's lists of one batch fit one write unit. A false match needs a
 * collision within one listener's window (~1 in 10⁷ per play at 500 items).
 */
export function itemFingerprint(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
