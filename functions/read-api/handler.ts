/**
 * The read routes: recommendations and radio (answers.ts), similar items (similar.ts), profile,
 * neighbours, one track, the genre vocabulary. One function for all GET routes keeps them warm
 * together; each route is a small function.
 *
 * @routes GET /users/{userId}/recommendations, GET /users/{userId}/profile, GET /users/{userId}/neighbors, GET /users/{userId}/radio, GET /tracks/{trackId}, GET /tracks/{trackId}/similar, GET /artists/{artistId}/similar, GET /genres
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { getCatalogItems } from '../../shared/adapters/dynamodb/catalog.ts';
import { getNeighborList } from '../../shared/adapters/dynamodb/neighbors.ts';
import { getProfile, usersWithProfiles } from '../../shared/adapters/dynamodb/profiles.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { artistItemId, trackItemId } from '../../shared/domain/catalog/catalog.ts';
import { GENRES, genreLabel } from '../../shared/domain/genres.ts';
import { DAY_MS, genreDistribution, recentListens, scoresAt, topEntries } from '../../shared/domain/profile/profile.ts';
import { listenerVariant } from '../../shared/handlers/experiment.ts';
import { HttpError, type HttpResult, json, parseQuery, pathParam, problem } from '../../shared/handlers/http.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { radio, recommendations } from './answers.ts';
import { limitParam, settings } from './catalog-view.ts';
import { similarRoute } from './similar.ts';

const tools = observability('read-api');

/** The route shows the closest 20 by default; ranking uses all NEIGHBORS_K. */
const NeighborsQuery = z.object({ limit: limitParam(100, Math.min(20, settings.NEIGHBORS_K)) });

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
    variant: listenerVariant(userId).name,
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
  'GET /users/{userId}/radio': radio,
  'GET /tracks/{trackId}/similar': similarRoute('track'),
  'GET /artists/{artistId}/similar': similarRoute('artist'),
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
