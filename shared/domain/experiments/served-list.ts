/**
 * A served list: what one answer showed one listener. The read API writes it as one JSON log line
 * (`{"served": …}`, compact: ServedLine), the recorder produces it to `served-lists` as ServedListV1, the attributor keeps
 * it for the attribution window. Items are the answer's ids in order (position = index + 1).
 */
import { z } from 'zod';
import { fingerprintEventId } from '../profile/profile.ts';
import { RECOMMENDATION_ID_PATTERN, servedAtOf } from './recommendation-id.ts';

export const SERVED_ROUTES = ['recommendations', 'radio', 'similar-tracks', 'similar-artists'] as const;
export type ServedRoute = (typeof SERVED_ROUTES)[number];

export const ServedListV1 = z
  .object({
    v: z.literal(1),
    id: z.string().regex(RECOMMENDATION_ID_PATTERN, 'must be a recommendationId'),
    userId: z.string().min(1).max(128),
    route: z.enum(SERVED_ROUTES),
    kind: z.enum(['track', 'artist']),
    variant: z.string().min(1).max(32),
    strategy: z.string().min(1).max(32),
    /** Serving time, epoch ms. */
    ts: z.int().min(0),
    /** The items by position: their ids… */
    items: z.array(z.string().min(1).max(128)).max(100).optional(),
    /** …or their fingerprints (`fingerprintItems`), as the read API's log line carries them. */
    fingerprints: z
      .string()
      .max(1000)
      .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url')
      .refine((s) => (s.length * 3) % 24 === 0, 'must encode whole 6-byte fingerprints')
      .optional(),
  })
  .refine((l) => l.items !== undefined || l.fingerprints !== undefined, {
    message: 'items or fingerprints is required',
    path: ['items'],
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
  /** The items' fingerprints, base64url (8 characters an item, whatever the length of its id). */
  i: z
    .string()
    .max(1000)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url'),
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
      i: list.fingerprints ?? fingerprintItems(list.items ?? []),
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
    fingerprints: line.i,
  };
}

/**
 * 48-bit fingerprint of an item id (cyrb53, the profile's): a served list records its items as 6
 * bytes each, so a line costs the same for a 7-character id and a 41-character MusicBrainz one
 * (CloudWatch Logs bills bytes). 48 bits: a catalog of 10⁸ items has ~20 colliding pairs, and a
 * false match within one listener's window is ~1 in 10¹¹ per play.
 */
export function itemFingerprint(id: string): number {
  return fingerprintEventId(id) % 2 ** 48;
}

/** Fingerprints of items in order, 6 bytes big-endian each, base64url. */
export function fingerprintItems(ids: readonly string[]): string {
  return encodeFingerprints(ids.map(itemFingerprint));
}

export function encodeFingerprints(fps: readonly number[]): string {
  const b = Buffer.alloc(fps.length * 6);
  for (const [i, x] of fps.entries()) b.writeUIntBE(x, i * 6, 6);
  return b.toString('base64url');
}

export function decodeFingerprints(s: string): number[] {
  const b = Buffer.from(s, 'base64url');
  const out: number[] = [];
  for (let i = 0; i + 6 <= b.length; i += 6) out.push(b.readUIntBE(i, 6));
  return out;
}

/** A served list's items as fingerprints, whichever form it came in. */
export const fingerprintsOf = (list: Pick<ServedListV1, 'items' | 'fingerprints'>): number[] =>
  list.fingerprints !== undefined ? decodeFingerprints(list.fingerprints) : (list.items ?? []).map(itemFingerprint);
