/**
 * ListenBrainz-compatible routes, so existing scrobblers (Navidrome, Jellyfin, Web Scrobbler, Pano
 * Scrobbler, multi-scrobbler…) can point their "custom ListenBrainz URL" at tunestream:
 *
 *   POST /1/submit-listens               single | import | playing_now
 *   GET  /1/validate-token
 *   POST /1/feedback/recording-feedback  1 love → like, -1 hate → dislike, 0 → withdraw
 *
 * The listener is whoever the token belongs to (the token authorizer's `userId`): a token can
 * only submit its own listens. Listens are resolved to the catalog by name (as POST /events does)
 * and go to listen-events; playing_now goes to now-playing (shown live, not counted as a play).
 * Errors use ListenBrainz's shape: `{"code": 400, "error": "..."}` (plus the `field`).
 *
 * @producesTo listen-events now-playing
 * @routes POST /1/submit-listens, GET /1/validate-token, POST /1/feedback/recording-feedback
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { getCatalogItems } from '../../shared/adapters/dynamodb/catalog.ts';
import { getIndexEntries, putIndexEntry } from '../../shared/adapters/dynamodb/name-index.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { getFeedback, putFeedback, usersStoreFromEnv } from '../../shared/adapters/dynamodb/users.ts';
import { produce, topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { trackItemId } from '../../shared/domain/catalog/catalog.ts';
import { aliasKey, MBID_ID_PREFIX } from '../../shared/domain/catalog/name-resolution.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import {
  aliasesOf,
  type FeedbackTarget,
  feedbackEvents,
  LbBadRequest,
  listenEventOf,
  parseFeedback,
  parseSubmission,
} from '../../shared/domain/events/listenbrainz.ts';
import type { HttpResult } from '../../shared/handlers/http.ts';
import { resolveListens } from '../../shared/handlers/name-resolution.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';

const tools = observability('listenbrainz-api');

const lb = (code: number, body: Record<string, unknown>): HttpResult => ({
  statusCode: code,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});
const lbError = (code: number, error: string, field?: string): HttpResult =>
  lb(code, { code, error, ...(field ? { field } : {}) });

const UNAUTHORIZED: Record<string, string> = {
  missing: 'You need to provide an Authorization header.',
  malformed: 'Provided Authorization header is invalid.',
  unknown: 'Invalid authorization token.',
};

/** The listener the authorizer found for the token, or the 401 to answer. */
function listenerOf(event: APIGatewayProxyEventV2): { userId: string } | { denied: HttpResult } {
  const ctx = (event.requestContext as { authorizer?: { lambda?: { userId?: unknown; problem?: unknown } } }).authorizer
    ?.lambda;
  const userId = typeof ctx?.userId === 'string' ? ctx.userId : '';
  if (userId) return { userId };
  const problem = typeof ctx?.problem === 'string' && ctx.problem in UNAUTHORIZED ? ctx.problem : 'unknown';
  return { denied: lbError(401, UNAUTHORIZED[problem]!) };
}

const bodyOf = (event: APIGatewayProxyEventV2): string =>
  event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');

const topic = (key: 'listenEvents' | 'nowPlaying'): string => topicsFromEnv()[key];

const toMessages = (events: readonly ListenEventV1[]) =>
  events.map((e) => ({
    key: e.userId,
    value: JSON.stringify(e),
    headers: { 'content-type': 'application/json', schema: 'listen-event-v1', source: 'listenbrainz' },
  }));

/** Aliases already written by this container (recording MBID → the track it resolved to). */
const learnedAliases = new Set<string>();

export async function submitListens(
  event: APIGatewayProxyEventV2,
  userId: string,
  now = Date.now(),
): Promise<HttpResult> {
  const submission = parseSubmission(bodyOf(event), Math.floor(now / 1000));
  const listens = submission.listens.map((l) => ({ event: listenEventOf(userId, l, now), aliases: aliasesOf(l) }));
  const { events, counts } = await resolveListens(listens, (error) =>
    tools.logger.warn('name resolution failed; listens go on unresolved', { error }),
  );
  if (submission.listenType === 'playing_now') {
    await produce(topic('nowPlaying'), toMessages(events));
    tools.metrics.addMetric('PlayingNow', MetricUnit.Count, 1);
    return lb(200, { status: 'ok' });
  }
  await produce(topic('listenEvents'), toMessages(events));
  await learnRecordingAliases(listens, events);
  tools.metrics.addMetric('ListensAccepted', MetricUnit.Count, events.length);
  if (counts.named > 0) {
    // Resolution rate of this source: NamesResolved / NamedListens (ingest-events reports the same pair).
    tools.metrics.addMetric('NamedListens', MetricUnit.Count, counts.named);
    tools.metrics.addMetric('NamesResolved', MetricUnit.Count, counts.resolved);
  }
  return lb(200, { status: 'ok' });
}

/**
 * A listen that brought a recording MBID the index did not know, but resolved by name, teaches
 * the index that alias (rank −1: any catalog claim wins), so feedback on that MBID finds the track.
 */
async function learnRecordingAliases(
  listens: readonly { aliases: { recordingMbid?: string } }[],
  events: readonly ListenEventV1[],
): Promise<void> {
  const stores = storesFromEnv();
  await Promise.all(
    listens.map(async (l, i) => {
      const mbid = l.aliases.recordingMbid;
      const e = events[i]!;
      if (!mbid || !e.trackId || e.trackId === `${MBID_ID_PREFIX}${mbid}`) return;
      const key = aliasKey('mbid', mbid);
      if (learnedAliases.has(key)) return;
      try {
        await putIndexEntry(stores, {
          itemId: key,
          kind: 'name',
          trackId: e.trackId,
          ...(e.artistId ? { artistId: e.artistId } : {}),
          name: e.trackName ?? e.trackId,
          hasGenres: false,
          rank: -1,
          updatedAt: -1,
        });
        if (learnedAliases.size > 100_000) learnedAliases.clear();
        learnedAliases.add(key);
      } catch (error) {
        tools.logger.warn('could not record a recording alias', { error: error as Error });
      }
    }),
  );
}

/** The track (and artist) a feedback's recording is: through its alias, else its placeholder id. */
async function feedbackTarget(recording: string, recordingMbid: string | undefined): Promise<FeedbackTarget> {
  const stores = storesFromEnv();
  if (recordingMbid) {
    const entry = (await getIndexEntries(stores, [aliasKey('mbid', recordingMbid)])).get(
      aliasKey('mbid', recordingMbid),
    );
    if (entry?.trackId) return { trackId: entry.trackId, ...(entry.artistId ? { artistId: entry.artistId } : {}) };
  }
  // A recording only ever seen by its MBID: its name-only catalog item knows the artist.
  const item = (await getCatalogItems(stores, [trackItemId(recording)])).get(trackItemId(recording));
  return { trackId: recording, ...(item?.artistId ? { artistId: item.artistId } : {}) };
}

export async function recordingFeedback(
  event: APIGatewayProxyEventV2,
  userId: string,
  now = Date.now(),
): Promise<HttpResult> {
  const feedback = parseFeedback(bodyOf(event));
  const users = usersStoreFromEnv();
  const previous = await getFeedback(users, userId, feedback.recording);
  const target = previous ?? (await feedbackTarget(feedback.recording, feedback.recordingMbid));
  const { events, state } = feedbackEvents(userId, feedback, previous, target, now);
  if (events.length === 0) return lb(200, { status: 'ok' });
  // State first: a retry after a failed produce finds the new state and sends nothing twice;
  // if producing fails, the old state is put back so the client's retry redoes it.
  await putFeedback(users, userId, feedback.recording, state);
  try {
    await produce(topic('listenEvents'), toMessages(events));
  } catch (err) {
    if (previous) await putFeedback(users, userId, feedback.recording, previous).catch(() => {});
    else await putFeedback(users, userId, feedback.recording, { ...state, score: 0 }).catch(() => {});
    throw err;
  }
  tools.metrics.addMetric('Feedback', MetricUnit.Count, 1);
  return lb(200, { status: 'ok' });
}

export function validateToken(event: APIGatewayProxyEventV2): HttpResult {
  const who = listenerOf(event);
  if ('userId' in who) return lb(200, { code: 200, message: 'Token valid.', valid: true, user_name: who.userId });
  return lb(200, { code: 200, message: 'Token invalid.', valid: false });
}

export async function route(event: APIGatewayProxyEventV2): Promise<HttpResult> {
  try {
    if (event.routeKey === 'GET /1/validate-token') return validateToken(event);
    const who = listenerOf(event);
    if ('denied' in who) return who.denied;
    switch (event.routeKey) {
      case 'POST /1/submit-listens':
        return await submitListens(event, who.userId);
      case 'POST /1/feedback/recording-feedback':
        return await recordingFeedback(event, who.userId);
      default:
        return lbError(404, `no route ${event.routeKey}`);
    }
  } catch (err) {
    if (err instanceof LbBadRequest) return lbError(400, err.message, err.field || undefined);
    tools.logger.error('listenbrainz route failed', { error: err as Error });
    return lbError(503, 'Cannot submit listens to queue, please try again later.');
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => route(event), tools);
