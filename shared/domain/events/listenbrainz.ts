/**
 * The ListenBrainz submission API's payloads (https://listenbrainz.readthedocs.io/en/latest/users/api/),
 * validated the way listenbrainz-server does it, with its limits and its error messages, and
 * mapped to ListenEventV1. Every rejection names the field (`payload[2].listened_at`) and the
 * reason; the HTTP layer answers `{"code": 400, "error": "<field>: <reason>", "field": …}`.
 *
 * Pure: no AWS or Kafka imports.
 */

import { createHash } from 'node:crypto';
import { artistIdOf, isMbid, type ListenAliases, MBID_ID_PREFIX, spotifyTrackId } from '../catalog/name-resolution.ts';
import { isRecommendationId } from '../experiments/recommendation-id.ts';
import type { ListenEventV1 } from './events.ts';

/** listenbrainz-server's limits (webserver/views/api_tools.py). */
export const LB_MAX_LISTEN_SIZE = 10_240;
export const LB_MAX_LISTENS_PER_REQUEST = 1000;
export const LB_MAX_PAYLOAD_BYTES = 10_240_000;
export const LB_MAX_TAGS_PER_LISTEN = 50;
export const LB_MAX_TAG_SIZE = 64;
/** listened_at must be after this (2002-10-01 00:00:00 UTC) and at most this far ahead of now. */
export const LB_LISTEN_MINIMUM_TS = 1_033_430_400;
export const LB_ALLOWED_SKEW_SECONDS = 60 * 60;

export const LB_LISTEN_TYPES = ['single', 'import', 'playing_now'] as const;
export type LbListenType = (typeof LB_LISTEN_TYPES)[number];

export class LbBadRequest extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
  }
}

export interface LbTrackMetadata {
  artist_name: string;
  track_name: string;
  release_name?: string;
  additional_info: Record<string, unknown>;
}

export interface LbListen {
  listened_at?: number;
  track_metadata: LbTrackMetadata;
}

export interface LbSubmission {
  listenType: LbListenType;
  listens: LbListen[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and validates a submit-listens body (raw bytes as sent: clients do not always say JSON). */
export function parseSubmission(body: string, nowSeconds: number): LbSubmission {
  if (Buffer.byteLength(body, 'utf8') > LB_MAX_PAYLOAD_BYTES)
    throw new LbBadRequest('', `Payload too large. Payloads may not be larger than ${LB_MAX_PAYLOAD_BYTES} bytes.`);
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new LbBadRequest('', `Cannot parse JSON document: ${(err as Error).message}`);
  }
  if (!isObject(data) || !('payload' in data) || !('listen_type' in data))
    throw new LbBadRequest('', 'Invalid JSON document submitted: listen_type and payload are required.');
  const { payload, listen_type: listenType } = data;
  if (typeof listenType !== 'string' || !(LB_LISTEN_TYPES as readonly string[]).includes(listenType))
    throw new LbBadRequest('listen_type', 'JSON document requires a valid listen_type key.');
  if (!Array.isArray(payload)) throw new LbBadRequest('payload', 'payload must be a list of listens.');
  if (payload.length === 0) throw new LbBadRequest('payload', 'JSON document does not contain any listens');
  if (payload.length > LB_MAX_LISTENS_PER_REQUEST)
    throw new LbBadRequest(
      'payload',
      `Too many listens. You may not submit more than ${LB_MAX_LISTENS_PER_REQUEST} listens at once.`,
    );
  if (Buffer.byteLength(body, 'utf8') > payload.length * LB_MAX_LISTEN_SIZE)
    throw new LbBadRequest(
      'payload',
      `JSON document is too large. In aggregate, listens may not be larger than ${LB_MAX_LISTEN_SIZE} characters.`,
    );
  if (listenType !== 'import' && payload.length > 1)
    throw new LbBadRequest(
      'payload',
      'JSON document contains more than listen for a single/playing_now. It should contain only one.',
    );
  const type = listenType as LbListenType;
  return { listenType: type, listens: payload.map((l, i) => validateListen(l, type, `payload[${i}]`, nowSeconds)) };
}

function validateListen(listen: unknown, type: LbListenType, at: string, nowSeconds: number): LbListen {
  if (!isObject(listen)) throw new LbBadRequest(at, 'Listen must be a JSON object.');
  let listenedAt: number | undefined;
  if (type === 'playing_now') {
    if ('listened_at' in listen)
      throw new LbBadRequest(
        `${at}.listened_at`,
        'JSON document must not contain listened_at while submitting playing_now.',
      );
    if (Object.keys(listen).some((k) => k !== 'track_metadata'))
      throw new LbBadRequest(
        at,
        'JSON document may only contain track_metadata as top level key when submitting playing_now.',
      );
  } else {
    if (!('listened_at' in listen))
      throw new LbBadRequest(`${at}.listened_at`, 'JSON document must contain the key listened_at at the top level.');
    const raw = listen.listened_at;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n))
      throw new LbBadRequest(`${at}.listened_at`, 'JSON document must contain an int value for listened_at.');
    if (Object.keys(listen).some((k) => k !== 'listened_at' && k !== 'track_metadata'))
      throw new LbBadRequest(at, 'JSON document may only contain listened_at and track_metadata top level keys');
    if (n < LB_LISTEN_MINIMUM_TS)
      throw new LbBadRequest(
        `${at}.listened_at`,
        `Value for key listened_at is too low. listened_at timestamp should be greater than ${LB_LISTEN_MINIMUM_TS} (2002-10-01 00:00:00 UTC).`,
      );
    if (n > nowSeconds + LB_ALLOWED_SKEW_SECONDS)
      throw new LbBadRequest(`${at}.listened_at`, 'Value for key listened_at is too high.');
    listenedAt = n;
  }
  const md = listen.track_metadata;
  if (!isObject(md))
    throw new LbBadRequest(
      `${at}.track_metadata`,
      'JSON document does not contain a valid metadata.track_name and/or track_metadata.artist_name.',
    );
  for (const key of ['track_name', 'artist_name'] as const) {
    const v = md[key];
    if (v === undefined || v === null || v === '')
      throw new LbBadRequest(
        `${at}.track_metadata.${key}`,
        `JSON document does not contain required track_metadata.${key}.`,
      );
    if (typeof v !== 'string') throw new LbBadRequest(`${at}.track_metadata.${key}`, `${key} must be a single string.`);
    if (v.trim() === '')
      throw new LbBadRequest(`${at}.track_metadata.${key}`, `track_metadata.${key} must not be blank.`);
  }
  if (md.release_name !== undefined && md.release_name !== null && typeof md.release_name !== 'string')
    throw new LbBadRequest(`${at}.track_metadata.release_name`, 'release_name must be a single string.');
  const info = md.additional_info ?? {};
  if (!isObject(info))
    throw new LbBadRequest(
      `${at}.track_metadata.additional_info`,
      'track_metadata.additional_info must be a dictionary.',
    );
  validateAdditionalInfo(info, `${at}.track_metadata.additional_info`);
  return {
    ...(listenedAt !== undefined ? { listened_at: listenedAt } : {}),
    track_metadata: {
      artist_name: md.artist_name as string,
      track_name: md.track_name as string,
      ...(typeof md.release_name === 'string' ? { release_name: md.release_name } : {}),
      additional_info: info,
    },
  };
}

function validateAdditionalInfo(info: Record<string, unknown>, at: string): void {
  // tunestream's own key: the answer the listen came from (explicit attribution).
  const rid = info.recommendation_id;
  if (rid !== undefined && rid !== null && (typeof rid !== 'string' || !isRecommendationId(rid)))
    throw new LbBadRequest(
      `${at}.recommendation_id`,
      'recommendation_id must be a recommendationId as tunestream answers give it (r + 19 base-36 digits).',
    );
  if ('tags' in info) {
    const tags = info.tags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
      throw new LbBadRequest(`${at}.tags`, 'tags must be a list of strings.');
    if (tags.length > LB_MAX_TAGS_PER_LISTEN)
      throw new LbBadRequest(
        `${at}.tags`,
        `JSON document may not contain more than ${LB_MAX_TAGS_PER_LISTEN} items in track_metadata.additional_info.tags.`,
      );
    if (tags.some((t: string) => t.length > LB_MAX_TAG_SIZE))
      throw new LbBadRequest(
        `${at}.tags`,
        `JSON document may not contain track_metadata.additional_info.tags longer than ${LB_MAX_TAG_SIZE} characters.`,
      );
  }
  for (const key of ['release_mbid', 'recording_mbid', 'release_group_mbid', 'track_mbid']) {
    const v = info[key];
    if (v === undefined || v === null || v === '') continue;
    if (!isMbid(v)) throw new LbBadRequest(`${at}.${key}`, `${key} MBID format invalid.`);
  }
  for (const key of ['artist_mbids', 'work_mbids']) {
    const v = info[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((m) => !isMbid(m)))
      throw new LbBadRequest(`${at}.${key}`, `${key} MBID format invalid.`);
  }
  for (const key of ['duration_ms', 'duration']) {
    const v = info[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      throw new LbBadRequest(`${at}.${key}`, `Value for ${key} is invalid, should be a positive integer.`);
  }
  for (const key of ['spotify_id', 'media_player', 'submission_client', 'music_service', 'music_service_name']) {
    const v = info[key];
    if (v !== undefined && v !== null && typeof v !== 'string')
      throw new LbBadRequest(`${at}.${key}`, `${key} must be a string.`);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** The aliases a listen brings (MusicBrainz ids, a Spotify track id). */
export function aliasesOf(listen: LbListen): ListenAliases {
  const info = listen.track_metadata.additional_info;
  const spotify = str(info.spotify_id);
  const spotifyId = spotify ? spotifyTrackId(spotify) : undefined;
  const recordingMbid = str(info.recording_mbid);
  return {
    ...(recordingMbid ? { recordingMbid: recordingMbid.toLowerCase() } : {}),
    ...(Array.isArray(info.artist_mbids) && info.artist_mbids.length > 0
      ? { artistMbids: (info.artist_mbids as string[]).map((m) => m.toLowerCase()) }
      : {}),
    ...(spotifyId ? { spotifyId } : {}),
  };
}

const clip = (s: string, n: number) => s.slice(0, n);

/**
 * A listen as a ListenEventV1 (before name resolution): the play at `listened_at` (now for
 * playing_now), names kept, a name-based artist id and — when it has a recording MBID — that as
 * its track's stable id. The eventId hashes user, time and names, so a client's retry is a no-op.
 */
export function listenEventOf(userId: string, listen: LbListen, nowMs: number): ListenEventV1 {
  const md = listen.track_metadata;
  const info = md.additional_info;
  const ts = listen.listened_at !== undefined ? listen.listened_at * 1000 : nowMs;
  const durationMs =
    typeof info.duration_ms === 'number'
      ? info.duration_ms
      : typeof info.duration === 'number'
        ? info.duration * 1000
        : undefined;
  const platform = str(info.media_player) ?? str(info.submission_client) ?? str(info.music_service_name);
  const recordingMbid = aliasesOf(listen).recordingMbid;
  const basis = [userId, ts, md.artist_name.trim().toLowerCase(), md.track_name.trim().toLowerCase()].join('\u0000');
  return {
    eventId: `lb-${createHash('sha256').update(basis).digest('base64url').slice(0, 22)}`,
    userId,
    ...(recordingMbid ? { trackId: `${MBID_ID_PREFIX}${recordingMbid}` } : {}),
    artistId: artistIdOf(md.artist_name),
    trackName: clip(md.track_name, 512),
    artistName: clip(md.artist_name, 512),
    ts,
    type: 'play',
    ...(durationMs !== undefined && Number.isSafeInteger(durationMs) && durationMs > 0 ? { durationMs } : {}),
    ...(platform ? { platform: clip(platform.toLowerCase(), 64) } : {}),
    ...(typeof info.recommendation_id === 'string' ? { recommendationId: info.recommendation_id } : {}),
    v: 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Recording feedback: 1 love, -1 hate, 0 withdraw.

export interface LbFeedback {
  /** `mbid:<uuid>` or `msid:<uuid>`: the recording the feedback is about. */
  recording: string;
  recordingMbid?: string;
  score: -1 | 0 | 1;
}

export function parseFeedback(body: string): LbFeedback {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new LbBadRequest('', `Cannot parse JSON document: ${(err as Error).message}`);
  }
  if (!isObject(data)) throw new LbBadRequest('', 'Invalid JSON document submitted.');
  const { recording_mbid: mbid, recording_msid: msid, score } = data;
  if ((mbid === undefined || mbid === null) && (msid === undefined || msid === null))
    throw new LbBadRequest(
      'recording_mbid',
      'JSON document must contain either recording_msid or recording_mbid, and score top level keys',
    );
  if (!('score' in data))
    throw new LbBadRequest(
      'score',
      'JSON document must contain either recording_msid or recording_mbid, and score top level keys',
    );
  if (mbid !== undefined && mbid !== null && !isMbid(mbid))
    throw new LbBadRequest('recording_mbid', 'recording_mbid MBID format invalid.');
  if (msid !== undefined && msid !== null && !isMbid(msid))
    throw new LbBadRequest('recording_msid', 'recording_msid MSID format invalid.');
  if (score !== -1 && score !== 0 && score !== 1)
    throw new LbBadRequest('score', 'Feedback score can only have a value of -1, 0 or 1.');
  const unknownKeys = Object.keys(data).filter((k) => !['recording_mbid', 'recording_msid', 'score'].includes(k));
  if (unknownKeys.length > 0)
    throw new LbBadRequest(
      unknownKeys[0]!,
      `JSON document may only contain recording_msid, recording_mbid and score top level keys`,
    );
  const m = typeof mbid === 'string' ? mbid.toLowerCase() : undefined;
  return {
    recording: m ? `mbid:${m}` : `msid:${(msid as string).toLowerCase()}`,
    ...(m ? { recordingMbid: m } : {}),
    score,
  };
}

/** The last feedback a user gave a recording (kept so a withdrawal can be undone exactly). */
export interface FeedbackState {
  score: -1 | 0 | 1;
  /** When the current like/dislike was applied (epoch ms); its undo uses the same time. */
  ts: number;
  trackId: string;
  artistId?: string;
}

export interface FeedbackTarget {
  trackId: string;
  artistId?: string;
}

/**
 * The listen events a feedback change produces. A like / dislike is an event at `nowMs`; taking it
 * back (score 0, or switching) is an event at the original time whose rating weighs exactly the
 * opposite (like +2 → rating 0 = −2; dislike −1.5 → rating 4.375 = +1.5, see profile/weights.ts), so the
 * decayed profile returns to where it was. Same score again: nothing.
 */
export function feedbackEvents(
  userId: string,
  feedback: LbFeedback,
  previous: FeedbackState | undefined,
  target: FeedbackTarget,
  nowMs: number,
): { events: ListenEventV1[]; state: FeedbackState } {
  const prevScore = previous?.score ?? 0;
  if (prevScore === feedback.score && previous) return { events: [], state: previous };
  const id = (parts: (string | number)[]) =>
    `lbfb-${createHash('sha256')
      .update([userId, feedback.recording, ...parts].join('\u0000'))
      .digest('base64url')
      .slice(0, 22)}`;
  const events: ListenEventV1[] = [];
  if (previous && prevScore !== 0) {
    events.push({
      eventId: id(['undo', previous.score, previous.ts]),
      userId,
      trackId: previous.trackId,
      ...(previous.artistId ? { artistId: previous.artistId } : {}),
      ts: previous.ts,
      type: prevScore === 1 ? 'dislike' : 'like',
      rating: prevScore === 1 ? 0 : 4.375,
      platform: 'listenbrainz-feedback',
      v: 1,
    });
  }
  if (feedback.score !== 0) {
    events.push({
      eventId: id([feedback.score, nowMs]),
      userId,
      trackId: target.trackId,
      ...(target.artistId ? { artistId: target.artistId } : {}),
      ts: nowMs,
      type: feedback.score === 1 ? 'like' : 'dislike',
      platform: 'listenbrainz-feedback',
      v: 1,
    });
  }
  return {
    events,
    state: {
      score: feedback.score,
      ts: feedback.score === 0 ? (previous?.ts ?? nowMs) : nowMs,
      trackId: target.trackId,
      ...(target.artistId ? { artistId: target.artistId } : {}),
    },
  };
}
