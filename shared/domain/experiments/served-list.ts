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
      .refine((s) => ((s.length * 6) >> 3) % 4 === 0, 'must encode whole 4-byte fingerprints')
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
  /** Route and kind by their first letters: `r` recommendations, `a` radio, `t` / `s` similar tracks / artists. */
  r: z.enum(['r', 'a', 't', 's']),
  k: z.enum(['t', 'a']),
  x: ServedListV1.shape.variant,
  s: ServedListV1.shape.strategy,
  /** The items' fingerprints, base64url (5⅓ characters an item, whatever the length of its id). */
  i: z
    .string()
    .max(1000)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url'),
});
export type ServedLine = z.infer<typeof ServedLine>;

const ROUTE_CODES = {
  recommendations: 'r',
  radio: 'a',
  'similar-tracks': 't',
  'similar-artists': 's',
} as const satisfies Record<ServedRoute, ServedLine['r']>;
const ROUTE_OF_CODE = Object.fromEntries(Object.entries(ROUTE_CODES).map(([r, c]) => [c, r])) as Record<
  ServedLine['r'],
  ServedRoute
>;

/** The one line an answer writes: JSON, no prefix, so CloudWatch's JSON filter pattern matches it. */
export const servedListLine = (list: ServedListV1): string =>
  `${JSON.stringify({
    [SERVED_LIST_FIELD]: {
      v: 1,
      id: list.id,
      u: list.userId,
      r: ROUTE_CODES[list.route],
      k: list.kind === 'track' ? 't' : 'a',
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
    route: ROUTE_OF_CODE[line.r],
    kind: line.k === 't' ? 'track' : 'artist',
    variant: line.x,
    strategy: line.s,
    ts: servedAtOf(line.id) ?? 0,
    fingerprints: line.i,
  };
}

/**
 * 32-bit fingerprint of an item id (the low bits of cyrb53, the profile's): a served list records
 * its items as 4 bytes each, so a line costs the same for a 7-character id and a 41-character
 * MusicBrainz one (CloudWatch Logs bills bytes). Attribution compares fingerprints within one
 * listener's window, where a false match is ~1 in 10⁷ per play; the record names items for that
 * purpose, not as a catalog key (a catalog join resolves them, rare collisions aside).
 */
export function itemFingerprint(id: string): number {
  return fingerprintEventId(id) % 2 ** 32;
}

/** Fingerprints of items in order, 4 bytes big-endian each, base64url. */
export function fingerprintItems(ids: readonly string[]): string {
  return encodeFingerprints(ids.map(itemFingerprint));
}

export function encodeFingerprints(fps: readonly number[]): string {
  const b = Buffer.alloc(fps.length * 4);
  for (const [i, x] of fps.entries()) b.writeUInt32BE(x >>> 0, i * 4);
  return b.toString('base64url');
}

export function decodeFingerprints(s: string): number[] {
  const b = Buffer.from(s, 'base64url');
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) out.push(b.readUInt32BE(i));
  return out;
}

/** A served list's items as fingerprints, whichever form it came in. */
export const fingerprintsOf = (list: Pick<ServedListV1, 'items' | 'fingerprints'>): number[] =>
  list.fingerprints !== undefined ? decodeFingerprints(list.fingerprints) : (list.items ?? []).map(itemFingerprint);
