/**
 * Public wire formats (zod 4 schemas + inferred types). Unknown keys are stripped, not rejected,
 * so producers can add fields without breaking consumers.
 */
import { z } from 'zod';
import { RECOMMENDATION_ID_PATTERN } from '../experiments/recommendation-id.ts';
import { tagToGenre } from '../genres.ts';

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
  /**
   * The answer the play came from (its `recommendationId`): explicit attribution. On the topic any
   * short string passes (an unknown or expired id is attributed implicitly, never refused);
   * ingest checks the form.
   */
  recommendationId: z.string().max(64).optional(),
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
  .object({
    ...listenEventShape,
    eventId: id.optional(),
    recommendationId: z
      .string()
      .regex(RECOMMENDATION_ID_PATTERN, 'must be a recommendationId as answers give it (r + 19 base-36 digits)')
      .optional(),
  })
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

/** A record on the tracks topic: a track or an artist upsert, `updatedAt` set by ingest. */
export const CatalogRecordV1 = z.union([TrackUpsertV1, ArtistUpsertV1.extend({ updatedAt: epochMs })]);
export type CatalogRecordV1 = z.infer<typeof CatalogRecordV1>;

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
