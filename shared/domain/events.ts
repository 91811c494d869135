/**
 * Public wire formats (zod 4 schemas + inferred types). Unknown keys are stripped, not rejected,
 * so producers can add fields without breaking consumers.
 */
import { z } from 'zod';
import { type GenreWeights, genreWeightsFromTags, normalizeGenreWeights, primaryGenre, tagToGenre } from './genres.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Timestamps before this are rejected (epoch ms, 2000-01-01). */
export const MIN_TS = Date.UTC(2000, 0, 1);
/** Static upper bound that keeps validation pure; use `isTsTooFarInFuture` at ingest for a clock-based check. */
export const MAX_TS = Date.UTC(2100, 0, 1);

const id = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');
const text = z.string().max(512);
const epochMs = z
  .int('must be an integer epoch-milliseconds timestamp')
  .min(MIN_TS, 'must be on or after 2000-01-01 (epoch milliseconds)')
  .max(MAX_TS, 'must be before 2100-01-01 (epoch milliseconds)');

export const LISTEN_EVENT_TYPES = ['play', 'skip', 'like', 'dislike'] as const;
export type ListenEventType = (typeof LISTEN_EVENT_TYPES)[number];

const listenEventShape = {
  eventId: id,
  userId: id,
  trackId: id.optional(),
  artistId: id.optional(),
  trackName: text.optional(),
  artistName: text.optional(),
  ts: epochMs,
  type: z.enum(LISTEN_EVENT_TYPES),
  msPlayed: z.int().min(0).optional(),
  durationMs: z.int().positive().optional(),
  rating: z.number().min(0).max(5).optional(),
  platform: z.string().max(64).optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO-3166 alpha-2 country code')
    .transform((c) => c.toUpperCase())
    .optional(),
  mood: z.string().max(64).optional(),
  v: z.literal(1).optional(),
};

const needsTrackOrArtist = (): { message: string; path: PropertyKey[] } => ({
  message: 'either trackId or artistId is required',
  path: ['trackId'],
});
const hasTrackOrArtist = (e: { trackId?: string | undefined; artistId?: string | undefined }) =>
  e.trackId !== undefined || e.artistId !== undefined;

/** A listen event as it travels on the listen-events topic. `eventId` is the idempotency key. */
export const ListenEventV1 = z.object(listenEventShape).refine(hasTrackOrArtist, needsTrackOrArtist());
export type ListenEventV1 = z.infer<typeof ListenEventV1>;

/** What POST /events accepts: `eventId` may be omitted (ingest assigns one). */
export const ListenEventInput = z
  .object({ ...listenEventShape, eventId: id.optional() })
  .refine(hasTrackOrArtist, needsTrackOrArtist());
export type ListenEventInput = z.infer<typeof ListenEventInput>;

/** Batch body for POST /events (size limits are the handler's, from settings). */
export const ListenEventBatchInput = z.object({ events: z.array(ListenEventInput).min(1) });
export type ListenEventBatchInput = z.infer<typeof ListenEventBatchInput>;

/** Clock-based check for ingest (schemas stay pure): more than `skewMs` ahead of `nowMs`. */
export function isTsTooFarInFuture(ts: number, nowMs: number, skewMs: number = DAY_MS): boolean {
  return ts > nowMs + skewMs;
}

// ---------------------------------------------------------------------------------------------
// Catalog

const genresField = z.union([
  z.array(z.string().refine((g) => tagToGenre(g) !== null, 'unknown genre (see GET /genres)')).max(64),
  z.record(
    z.string().refine((g) => tagToGenre(g) !== null, 'unknown genre (see GET /genres)'),
    z.number().min(0).max(1e9),
  ),
]);
const tagsField = z.union([
  z.array(z.string().max(128)).max(200),
  z.array(z.object({ tag: z.string().max(128), count: z.number().min(0).max(1e12).optional() })).max(200),
]);

/** MusicBrainz id (lenient UUID form) of a catalog track or artist: an alias in the name index. */
const mbid = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'must be a MusicBrainz id (UUID)',
  );

const trackShape = {
  trackId: id,
  title: text.min(1, 'must not be empty'),
  artistId: id.optional(),
  artistName: text.min(1, 'must not be empty'),
  genres: genresField.optional(),
  tags: tagsField.optional(),
  durationMs: z.int().positive().optional(),
  popularity: z.number().min(0).max(100).optional(),
  mbid: mbid.optional(),
  spotifyId: z.string().min(1).max(64).optional(),
  updatedAt: epochMs.optional(),
  v: z.literal(1).optional(),
};

/** What POST /tracks accepts: `updatedAt` optional (ingest assigns one). */
export const TrackUpsertInput = z.object(trackShape);
export type TrackUpsertInput = z.infer<typeof TrackUpsertInput>;

/** A catalog upsert on the tracks topic. `updatedAt` is the last-writer-wins key. */
export const TrackUpsertV1 = z.object({ ...trackShape, updatedAt: epochMs });
export type TrackUpsertV1 = z.infer<typeof TrackUpsertV1>;

/** Artist-level catalog data (Last.fm is artist-level). */
export const ArtistUpsertV1 = z.object({
  artistId: id,
  name: text.min(1, 'must not be empty'),
  genres: genresField.optional(),
  tags: tagsField.optional(),
  popularity: z.number().min(0).max(100).optional(),
  mbid: mbid.optional(),
  updatedAt: epochMs.optional(),
  v: z.literal(1).optional(),
});
export type ArtistUpsertV1 = z.infer<typeof ArtistUpsertV1>;

export interface CatalogTrack {
  trackId: string;
  title: string;
  artistId?: string;
  artistName: string;
  /** Normalized (sums to 1), sparse; empty when nothing is known. */
  genres: GenreWeights;
  primaryGenre: string | null;
  durationMs?: number;
  /** 0–100; 0 when unknown. */
  popularity: number;
  /** Tag → count (`tagCounts`), when the upsert has tags. */
  tags?: Record<string, number>;
  updatedAt: number;
}

export interface CatalogArtist {
  artistId: string;
  name: string;
  genres: GenreWeights;
  primaryGenre: string | null;
  popularity: number;
  tags?: Record<string, number>;
  updatedAt: number;
}

type GenresInput = TrackUpsertInput['genres'];
type TagsInput = TrackUpsertInput['tags'];

/** Explicit genres win over tags; both go through `tagToGenre`. */
export function resolveGenreWeights(genres: GenresInput, tags: TagsInput): GenreWeights {
  if (genres !== undefined) {
    const w = normalizeGenreWeights(genres);
    if (Object.keys(w).length > 0) return w;
  }
  if (tags !== undefined && tags.length > 0) return genreWeightsFromTags(tags);
  return {};
}

/** Tags kept per catalog item (the content lists use the strongest; this bounds the item size). */
export const MAX_ITEM_TAGS = 50;

/**
 * Raw tag counts for the item model's content neighbours: lower-case, whitespace collapsed, a
 * bare tag counts 1, repeats add up; the `max` strongest (ties by tag). The genre mapping alone
 * is too coarse for content similarity (EVALUATION.md), so the tags themselves are kept.
 */
export function tagCounts(tags: TagsInput, max = MAX_ITEM_TAGS): Record<string, number> | undefined {
  if (tags === undefined || tags.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const t of tags) {
    const [raw, n] = typeof t === 'string' ? [t, 1] : [t.tag, t.count ?? 1];
    const tag = raw.trim().toLowerCase().replace(/\s+/g, ' ');
    if (tag === '' || !(n > 0)) continue;
    counts.set(tag, (counts.get(tag) ?? 0) + n);
  }
  if (counts.size === 0) return undefined;
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max);
  return Object.fromEntries(top);
}

export function catalogItemFromTrack(upsert: TrackUpsertInput): CatalogTrack {
  const genres = resolveGenreWeights(upsert.genres, upsert.tags);
  const out: CatalogTrack = {
    trackId: upsert.trackId,
    title: upsert.title,
    artistName: upsert.artistName,
    genres,
    primaryGenre: primaryGenre(genres),
    popularity: upsert.popularity ?? 0,
    updatedAt: upsert.updatedAt ?? 0,
  };
  if (upsert.artistId !== undefined) out.artistId = upsert.artistId;
  if (upsert.durationMs !== undefined) out.durationMs = upsert.durationMs;
  const tags = tagCounts(upsert.tags);
  if (tags) out.tags = tags;
  return out;
}

export function catalogItemFromArtist(upsert: ArtistUpsertV1): CatalogArtist {
  const genres = resolveGenreWeights(upsert.genres, upsert.tags);
  const tags = tagCounts(upsert.tags);
  return {
    artistId: upsert.artistId,
    name: upsert.name,
    genres,
    primaryGenre: primaryGenre(genres),
    popularity: upsert.popularity ?? 0,
    ...(tags ? { tags } : {}),
    updatedAt: upsert.updatedAt ?? 0,
  };
}

/** Last-writer-wins for order-tolerant upserts: ties keep the existing item (replays are no-ops). */
export function isNewer(incoming: { updatedAt: number }, existing: { updatedAt: number } | undefined): boolean {
  return existing === undefined || incoming.updatedAt > existing.updatedAt;
}

/** GET /api/stream's query (the dashboard's live stream, served locally and in the cloud alike). */
export const StreamQuery = z.strictObject({
  since: z.coerce.number().int('must be an integer').min(0, 'must be at least 0').default(0),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(500).default(100),
  genre: z.string().max(64).optional(),
  platform: z.string().max(64).optional(),
  country: z.string().max(2).optional(),
  type: z.enum(LISTEN_EVENT_TYPES).optional(),
  user: z.string().max(128).optional(),
});

// ---------------------------------------------------------------------------------------------
// Profile updates and dead letters

/** One compact record per changed profile (profile-updates topic, keyed by userId). */
export const ProfileUpdateV1 = z.object({
  userId: id,
  version: z.int().min(0),
  /** Profile anchor time (latest event ts), epoch ms. */
  ts: z.int().min(0),
  /** Sparse, L2-normalized, non-negative genre vector (decimals rounded). */
  genres: z.record(z.string(), z.number()),
  /**
   * Compact sketch of the user's top artists, "artistId:weight,…" (id URI-encoded, weight 1–999
   * relative to the largest; see `encodeArtistSketch`). Optional: older producers omit it.
   */
  artists: z.string().max(16_384).optional(),
  /**
   * The user's strongest tracks and artists with the ranking's square-root damping, in the same
   * "id:weight,…" form (`encodeArtistSketch` with exponent 0.5): the neighbour index carries them so
   * that candidate lists are built without reading neighbours' profiles. Optional, as `artists`.
   */
  topTracks: z.string().max(65_536).optional(),
  topArtists: z.string().max(65_536).optional(),
  /**
   * Set by the item model builder when it announces a new build (`candidatesModelKey`): the
   * update asks for the user's candidates to be rebuilt even though the profile did not change.
   */
  itemModel: z.string().max(256).optional(),
  v: z.literal(1).optional(),
});
export type ProfileUpdateV1 = z.infer<typeof ProfileUpdateV1>;

export const DEAD_LETTER_REASONS = [
  'too-large',
  'invalid-json',
  'invalid-schema',
  'processing-error',
  'retries-exhausted',
  'record-too-old',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export const DeadLetterV1 = z.object({
  /** Usually one of DEAD_LETTER_REASONS. */
  reason: z.string().min(1).max(128),
  error: z.string().max(4096).optional(),
  sourceTopic: z.string().min(1),
  partition: z.int().min(0),
  offset: z.int().min(0),
  /** Base64 of the record key, when there was one. */
  key: z.base64().optional(),
  /** Base64 of the record value. */
  value: z.base64(),
  function: z.string().min(1),
  failedAt: z.int().min(0),
  v: z.literal(1).optional(),
});
export type DeadLetterV1 = z.infer<typeof DeadLetterV1>;

/** The one constructor of dead letters (handlers and the event source mapping alike). */
export function deadLetterOf(
  source: { topic: string; partition: number; offset: number; keyBase64?: string | undefined; valueBase64: string },
  reason: string,
  error: string,
  functionName: string,
  failedAt: number,
): DeadLetterV1 {
  return {
    reason,
    error: error.slice(0, 2000),
    sourceTopic: source.topic,
    partition: source.partition,
    offset: source.offset,
    ...(source.keyBase64 === undefined ? {} : { key: source.keyBase64 }),
    value: source.valueBase64,
    function: functionName,
    failedAt,
    v: 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface FieldIssue {
  path: string;
  message: string;
}

/** Flatten zod issues to `{path, message}` with paths like `events[3].ts`; `prefix` is prepended. */
export function formatZodIssues(error: { issues: readonly z.core.$ZodIssue[] }, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than a generic "invalid input".
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      const base = joinPath(prefix, issue.path);
      out.push(...formatZodIssues({ issues: best }, base));
      continue;
    }
    out.push({ path: joinPath(prefix, issue.path) || '(root)', message: issue.message });
  }
  return out;
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else {
      const name = String(seg);
      s += /^[A-Za-z_$][\w$]*$/.test(name) ? (s === '' ? name : `.${name}`) : `[${JSON.stringify(name)}]`;
    }
  }
  return s;
}
