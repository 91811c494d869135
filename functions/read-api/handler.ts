/**
 * The read routes: recommendations, profile, neighbours, one track, the genre vocabulary.
 * One function for all GET routes keeps them warm together; each route is a small function below.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { CatalogItemCache } from '../../shared/adapters/catalog-cache.ts';
import { getProfileAndCandidates } from '../../shared/adapters/dynamodb/candidates.ts';
import { getCatalogItems, popularInGenre } from '../../shared/adapters/dynamodb/catalog.ts';
import { getNeighborList } from '../../shared/adapters/dynamodb/neighbors.ts';
import { getProfile, type RankingProfile, usersWithProfiles } from '../../shared/adapters/dynamodb/profiles.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { ItemModelCache } from '../../shared/adapters/item-model-cache.ts';
import {
  artistItemId,
  type CatalogItem,
  type CatalogKind,
  catalogItemId,
  trackItemId,
} from '../../shared/domain/catalog.ts';
import { GENRES, genreLabel, tagToGenre } from '../../shared/domain/genres.ts';
import { DAY_MS, genreDistribution, recentListens, scoresAt, topEntries } from '../../shared/domain/profile.ts';
import { unpackCandidateSet } from '../../shared/domain/ranking/candidate-codec.ts';
import { rankCandidates } from '../../shared/domain/ranking/rank.ts';
import type { CandidateItem } from '../../shared/domain/ranking/types.ts';
import { HttpError, type HttpResult, json, parseQuery, pathParam, problem } from '../../shared/handlers/http.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { resolveSettings } from '../../shared/topology.ts';

const tools = observability('read-api');
const settings = resolveSettings();

/** When a user has no taste yet, popular items come from these genres. */
const HEADLINE_GENRES = ['pop', 'rock', 'hip-hop', 'electronic', 'indie', 'rnb'];
const CANDIDATES_PER_GENRE = 40;

const limitParam = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback);

const genreParam = z
  .string()
  .refine((g) => tagToGenre(g) !== null, 'unknown genre (see GET /genres)')
  .transform((g) => tagToGenre(g)!)
  .optional();

const RecommendationsQuery = z.object({
  limit: limitParam(settings.RECOMMENDATIONS_MAX_LIMIT, settings.RECOMMENDATIONS_DEFAULT_LIMIT),
  genre: genreParam,
  kind: z.enum(['track', 'artist']).default('track'),
});

/** The route shows the closest 20 by default; ranking uses all NEIGHBORS_K. */
const NeighborsQuery = z.object({ limit: limitParam(100, Math.min(20, settings.NEIGHBORS_K)) });

/**
 * Popular items per genre change slowly (catalog popularity), and every recommendation asks for
 * a few genres: caching them per container for a short while saves most of the read requests.
 */
const POPULAR_TTL_MS = 30_000;
const popularCache = new Map<string, { at: number; items: Promise<CatalogItem[]> }>();

function popularCached(stores: Stores, kind: CatalogKind, genre: string, now = Date.now()): Promise<CatalogItem[]> {
  const key = `${kind}#${genre}`;
  const hit = popularCache.get(key);
  if (hit && now - hit.at < POPULAR_TTL_MS) return hit.items;
  const items = popularInGenre(stores, kind, genre, CANDIDATES_PER_GENRE);
  // Neither a failed query nor an empty genre (a catalog still loading) is served from the cache.
  items.then(
    (list) => list.length === 0 && popularCache.delete(key),
    () => popularCache.delete(key),
  );
  popularCache.set(key, { at: now, items });
  return items;
}

/** Names and genres of recommended items outside the popular lists, per container (same TTL). */
const itemCache = new CatalogItemCache(50_000, POPULAR_TTL_MS);

/** The item model (listener counts, item lists): rebuilt on a schedule, so minutes of caching are fine. */
const _itemModel = new ItemModelCache(5 * 60_000);

function toCandidate(item: CatalogItem): CandidateItem {
  return { id: item.id, genres: item.genres ?? {}, popularity: item.popularity ?? 0 };
}

function describe(kind: CatalogKind, item: CatalogItem | undefined, id: string) {
  if (kind === 'artist') return { artistId: id, name: item?.name ?? null, genres: item?.genres ?? {} };
  return {
    trackId: id,
    title: item?.name ?? null,
    artistId: item?.artistId ?? null,
    artistName: item?.artistName ?? null,
    genres: item?.genres ?? {},
  };
}

/**
 * Recommendations: one BatchGet reads the user's profile and precomputed candidate set (built by
 * the neighbour updater at each refresh), and the ranking runs here with what just changed — the
 * profile's items are excluded (a track played a second ago is gone at once), the genre filter and
 * `kind` apply. A listener without a candidate set yet gets the genre part (their first refresh
 * follows their first profile write within a second; listeners stored before candidate sets
 * existed get one from the next item model build's announcement); unknown users get popular items.
 */
export async function recommendations(stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const userId = pathParam(event, 'userId');
  const query = parseQuery(event, RecommendationsQuery);
  const { profile, candidates } = await getProfileAndCandidates(stores, userId);
  const genres = candidateGenres(query.genre, profile);
  const popularLists = await Promise.all(genres.map((g) => popularCached(stores, query.kind, g)));
  const catalog = new Map(popularLists.flat().map((item) => [item.id, item]));

  const result = rankCandidates({
    kind: query.kind,
    list: candidates ? unpackCandidateSet(candidates)[query.kind] : undefined,
    profile,
    catalog: [...catalog.values()].map(toCandidate),
    genre: query.genre,
    limit: query.limit,
  });

  const missing = result.items.filter((i) => !catalog.has(i.id)).map((i) => catalogItemId(query.kind, i.id));
  if (missing.length > 0)
    for (const item of (await itemCache.get(stores, missing)).values()) catalog.set(item.id, item);

  return json(200, {
    userId,
    kind: query.kind,
    strategy: result.strategy,
    items: result.items.map((r) => ({
      ...describe(query.kind, catalog.get(r.id), r.id),
      score: Math.round(r.score * 1e4) / 1e4,
      reasons: r.reasons,
    })),
  });
}

/** Genre candidates: the requested genre, else the user's top genres, else headline genres. */
function candidateGenres(genre: string | undefined, profile: RankingProfile | undefined): string[] {
  if (genre) return [genre];
  const top = profile ? Object.keys(genreDistribution(profile)) : [];
  return top.length > 0 ? top.slice(0, 3) : HEADLINE_GENRES;
}

export async function profileView(
  stores: Stores,
  event: APIGatewayProxyEventV2,
  now = Date.now(),
): Promise<HttpResult> {
  const userId = pathParam(event, 'userId');
  const profile = await getProfile(stores, userId);
  if (!profile) return problem(404, `no profile for user ${userId} yet`);
  const halfLifeMs = settings.PROFILE_HALF_LIFE_DAYS * DAY_MS;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const distribution = genreDistribution(profile);
  const decayed = scoresAt(profile, now, { halfLifeMs });
  const topArtists = topEntries(profile.topArtists, 20);
  const topTracks = topEntries(profile.topTracks, 20);
  const recent = recentListens(profile);
  // One catalog lookup names the top lists and the session (its ids are mostly the same items).
  const names = await getCatalogItems(stores, [
    ...topArtists.map(([id]) => artistItemId(id)),
    ...topTracks.map(([id]) => trackItemId(id)),
    ...recent.flatMap((l) => [
      ...(l.trackId !== undefined ? [trackItemId(l.trackId)] : []),
      ...(l.artistId !== undefined ? [artistItemId(l.artistId)] : []),
    ]),
  ]);
  return json(200, {
    userId,
    version: profile.version,
    genres: Object.entries(distribution).map(([genre, share]) => ({
      genre,
      label: genreLabel(genre),
      share: round(share),
      score: round(decayed[genre] ?? 0),
    })),
    moods: topEntries(scoresAt(profile, now, { halfLifeMs, field: 'moods' })).map(([mood, score]) => ({
      mood,
      score: round(score),
    })),
    topArtists: topArtists.map(([id, score]) => ({
      artistId: id,
      name: names.get(artistItemId(id))?.name ?? null,
      weight: round(score),
    })),
    topTracks: topTracks.map(([id, score]) => ({
      trackId: id,
      title: names.get(trackItemId(id))?.name ?? null,
      artistName: names.get(trackItemId(id))?.artistName ?? null,
      weight: round(score),
    })),
    recent: recent.map((l) => {
      const track = l.trackId !== undefined ? names.get(trackItemId(l.trackId)) : undefined;
      const artist = l.artistId !== undefined ? names.get(artistItemId(l.artistId)) : undefined;
      return {
        trackId: l.trackId ?? null,
        artistId: l.artistId ?? track?.artistId ?? null,
        title: track?.name ?? null,
        artistName: track?.artistName ?? artist?.name ?? null,
        ts: l.ts,
        type: l.type,
      };
    }),
    counts: profile.counts,
    firstEventTs: profile.firstEventTs,
    lastEventTs: profile.lastEventTs,
    halfLifeDays: settings.PROFILE_HALF_LIFE_DAYS,
  });
}

export async function neighborsView(stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const userId = pathParam(event, 'userId');
  const { limit } = parseQuery(event, NeighborsQuery);
  const list = await getNeighborList(stores, userId);
  if (!list) {
    const profile = await getProfile(stores, userId);
    if (!profile) return problem(404, `no profile for user ${userId} yet`);
    return json(200, { userId, neighbors: [], refreshedAt: null });
  }
  // Forgotten listeners (DELETE /users/{userId}) leave others' lists as they are read.
  const present = await usersWithProfiles(
    stores,
    list.neighbors.slice(0, limit + 10).map((n) => n.userId),
  );
  return json(200, {
    userId,
    neighbors: list.neighbors.filter((n) => present.has(n.userId)).slice(0, limit),
    refreshedAt: list.refreshedAt,
    profileVersion: list.profileVersion,
  });
}

export async function trackView(stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const trackId = pathParam(event, 'trackId');
  const item = (await getCatalogItems(stores, [trackItemId(trackId)])).get(trackItemId(trackId));
  if (!item) return problem(404, `no track ${trackId} in the catalog`);
  return json(200, {
    trackId,
    title: item.name,
    artistId: item.artistId ?? null,
    artistName: item.artistName ?? null,
    genres: item.genres,
    primaryGenre: item.primaryGenre ?? null,
    durationMs: item.durationMs ?? null,
    popularity: item.popularity,
    updatedAt: item.updatedAt,
  });
}

export function genresView(): HttpResult {
  return json(
    200,
    { genres: GENRES.map((id) => ({ id, label: genreLabel(id) })) },
    { 'cache-control': 'max-age=3600' },
  );
}

const routes: Record<string, (stores: Stores, event: APIGatewayProxyEventV2) => Promise<HttpResult> | HttpResult> = {
  'GET /users/{userId}/recommendations': recommendations,
  'GET /users/{userId}/profile': (s, e) => profileView(s, e),
  'GET /users/{userId}/neighbors': neighborsView,
  'GET /tracks/{trackId}': trackView,
  'GET /genres': () => genresView(),
};

export async function route(event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const fn = routes[event.routeKey];
  if (!fn) return problem(404, `no route ${event.routeKey}`);
  try {
    return await fn(storesFromEnv(), event);
  } catch (err) {
    if (err instanceof HttpError) return err.toResult();
    throw err;
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => route(event), tools);
