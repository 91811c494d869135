/**
 * The dashboard-stats function over its three sources: a metrics source (pipeline health), a
 * stream source (recent listen events) and an experiments source (the attribution counters). In
 * the cloud handler.ts gives it CloudWatch and the event archive (cloud-sources.ts); the local
 * runtime gives it its own Kafka consumer and counters (local/dashboard/); both read the counters
 * from DynamoDB (counters-source.ts). The routes, the query's validation, the filters, the genre
 * mix, the experiments report and the answers' shape (types.ts) are this one code in both places.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { artistItemId, type CatalogItem, trackItemId } from '../../shared/domain/catalog/catalog.ts';
import { type ListenEventV1, StreamQuery } from '../../shared/domain/events/events.ts';
import { experimentFromEnv } from '../../shared/handlers/experiment.ts';
import { HttpError, type HttpResult, json, parseQuery } from '../../shared/handlers/http.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { dashboardRoutes, resolveSettings } from '../../shared/topology.ts';
import { type CounterRow, ExperimentsQuery, experimentsReport, hourWindow } from './experiments.ts';
import type { ExperimentsReport, GenreCount, Health, Stats, StreamEvent, StreamPage } from './types.ts';

/** The genre mix counts the events received within this window. */
export const GENRE_WINDOW_MS = 15 * 60_000;

/** Pipeline health: the event rate, consumer lag per trigger, dead letters, recent errors. */
export interface MetricsSource {
  health(now: number): Promise<Health>;
}

/** What the genre mix needs of an event (a source may keep the window in this lighter form). */
export type WindowEvent = Pick<StreamEvent, 'receivedAt' | 'genre' | 'trackId' | 'title' | 'artistName'>;

export interface StreamSource {
  /** Recent events, each listen once (by eventId), in any order. */
  recent(now: number): Promise<readonly StreamEvent[]>;
  /** Listen events (not now-playing notices) received since `from`: may be more than `recent` holds. */
  receivedSince(from: number, now: number): Promise<readonly WindowEvent[]>;
  /** Platforms and countries seen, the page's filter options. */
  facets(now: number): Promise<Stats['facets']>;
}

/** The attribution counters (counters-source.ts: DynamoDB, in the cloud and locally alike). */
export interface ExperimentsSource {
  /** Every counter row of the epoch hours [fromHour, toHour]. */
  counters(fromHour: number, toHour: number, now: number): Promise<readonly CounterRow[]>;
}

export interface DashboardSources {
  metrics: MetricsSource;
  stream: StreamSource;
  experiments: ExperimentsSource;
}

// ---------------------------------------------------------------------------------------------
// Events as the page shows them

/** The item ids (`t#…`, `a#…`) whose catalog items name and classify these events. */
export function catalogIdsOf(events: readonly Pick<ListenEventV1, 'trackId' | 'artistId'>[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.trackId) ids.add(trackItemId(e.trackId));
    if (e.artistId) ids.add(artistItemId(e.artistId));
  }
  return [...ids];
}

const genreOf = (item: CatalogItem | undefined): string | null =>
  !item ? null : (item.primaryGenre ?? Object.entries(item.genres ?? {}).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null);

/**
 * A listen event as the page shows it: names from the event, else from the catalog's track; the
 * track's genre, else its artist's (a play of a track the catalog lacks shows its artist's genre).
 */
export function toStreamEvent(
  e: ListenEventV1,
  arrival: { seq: number; receivedAt: number },
  catalog: ReadonlyMap<string, CatalogItem>,
  type: string = e.type,
): StreamEvent {
  const track = e.trackId ? catalog.get(trackItemId(e.trackId)) : undefined;
  const artist = e.artistId ? catalog.get(artistItemId(e.artistId)) : undefined;
  return {
    seq: arrival.seq,
    receivedAt: arrival.receivedAt,
    eventId: e.eventId,
    userId: e.userId,
    trackId: e.trackId ?? null,
    artistId: e.artistId ?? null,
    title: e.trackName ?? track?.name ?? null,
    artistName: e.artistName ?? track?.artistName ?? null,
    genre: genreOf(track) ?? genreOf(artist),
    type,
    ts: e.ts,
    platform: e.platform ?? null,
    country: e.country ?? null,
    mood: e.mood ?? null,
  };
}

/** The page's filters, newest first, after the cursor; the cursor never moves back. */
export function filterStream(events: readonly StreamEvent[], query: z.infer<typeof StreamQuery>): StreamPage {
  const country = query.country?.toUpperCase();
  const matches = events
    .filter(
      (e) =>
        e.seq > query.since &&
        (!query.genre || e.genre === query.genre) &&
        (!query.platform || e.platform === query.platform) &&
        (!country || e.country === country) &&
        (!query.type || e.type === query.type) &&
        (!query.user || e.userId === query.user),
    )
    .sort((a, b) => b.seq - a.seq);
  let cursor = query.since;
  for (const e of events) if (e.seq > cursor) cursor = e.seq;
  return { cursor, events: matches.slice(0, query.limit) };
}

/** Events per genre (`unknown` when the catalog knows none), most first, each with its 5 most played tracks. */
export function genreMix(window: readonly WindowEvent[]): GenreCount[] {
  const byGenre = new Map<string, { count: number; tracks: Map<string, GenreCount['topTracks'][number]> }>();
  for (const e of window) {
    const genre = e.genre ?? 'unknown';
    const g = byGenre.get(genre) ?? { count: 0, tracks: new Map() };
    g.count++;
    if (e.trackId) {
      const t = g.tracks.get(e.trackId) ?? { trackId: e.trackId, title: e.title, artistName: e.artistName, plays: 0 };
      t.plays++;
      g.tracks.set(e.trackId, t);
    }
    byGenre.set(genre, g);
  }
  return [...byGenre.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([genre, g]) => ({
      genre,
      count: g.count,
      topTracks: [...g.tracks.values()].sort((a, b) => b.plays - a.plays).slice(0, 5),
    }));
}

/** GET /api/stats: the metrics source's health, the genre mix and the facets of the stream source. */
export async function statsOf(sources: DashboardSources, now: number): Promise<Stats> {
  const [health, window, facets] = await Promise.all([
    sources.metrics.health(now),
    sources.stream.receivedSince(now - GENRE_WINDOW_MS, now),
    sources.stream.facets(now),
  ]);
  return { now, ...health, genreWindowSeconds: GENRE_WINDOW_MS / 1000, genres: genreMix(window), facets };
}

/**
 * GET /api/experiments: the last `hours` hours of counters as a report (experiments.ts), under the
 * experiment the functions run (RANKING_VARIANTS locally, the topology's in the cloud).
 */
export async function experimentsOf(
  sources: DashboardSources,
  hours: number,
  now: number,
  env: Record<string, string | undefined> = process.env,
): Promise<ExperimentsReport> {
  const window = hourWindow(now, hours);
  const rows = await sources.experiments.counters(window.fromHour, window.toHour, now);
  return experimentsReport(rows, experimentFromEnv(env), window, resolveSettings(env).ATTRIBUTION_WINDOW_HOURS);
}

// ---------------------------------------------------------------------------------------------
// The function

const [STATS_PATH, STREAM_PATH, EXPERIMENTS_PATH] = dashboardRoutes.map((r) => r.path);

/** Live figures: a proxy or browser must not keep them. */
const live = (body: unknown) => json(200, body, { 'cache-control': 'no-store' });

/** GET /api/stats, /api/stream and /api/experiments (payload 2.0) over the given sources. */
export function dashboardStats(sources: DashboardSources) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const now = Date.now();
      if (event.rawPath === STATS_PATH) return live(await statsOf(sources, now));
      if (event.rawPath === STREAM_PATH) {
        const query = parseQuery(event, StreamQuery);
        return live(filterStream(await sources.stream.recent(now), query));
      }
      if (event.rawPath === EXPERIMENTS_PATH) {
        const { hours } = parseQuery(event, ExperimentsQuery);
        return live(await experimentsOf(sources, hours, now));
      }
      return json(404, { message: 'Not Found' });
    } catch (err) {
      if (err instanceof HttpError) return err.toResult();
      throw err;
    }
  };
}

/** The Lambda handler over the given sources, with the logging and metrics every function has. */
export function dashboardStatsHandler(sources: DashboardSources) {
  const answer = dashboardStats(sources);
  return wrap((event: APIGatewayProxyEventV2, _context: Context) => answer(event), observability('dashboard-stats'));
}
