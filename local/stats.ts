/**
 * Live stats for the local dashboard: its own Kafka consumer group on listen-events and
 * dead-letters keeps a ring buffer of recent events (genre resolved from the catalog table) and
 * counters, served read-only under /api/* (authenticated like the API) next to the static
 * dashboard build. Local runtime only; in the cloud functions/dashboard-stats serves the same paths.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Consumer, Kafka } from 'kafkajs';
import type { z } from 'zod';
import { getCatalogItems } from '../shared/adapters/dynamodb/catalog.ts';
import { createStores, type Stores } from '../shared/adapters/dynamodb/stores.ts';
import { artistItemId, type CatalogItem, trackItemId } from '../shared/domain/catalog.ts';
import { DeadLetterV1, ListenEventV1, StreamQuery } from '../shared/domain/events.ts';
import { dashboardRoutes as dashboardApiRoutes, type FunctionName, type ResolvedTopology } from '../shared/topology.ts';
import type { ExtraRoute } from './runtime/http-api.ts';
import type { EventSourceMapping } from './runtime/kafka-esm.ts';
import { type LogLine, silentLog } from './runtime/log.ts';

export const DASHBOARD_DIR = resolve(import.meta.dirname, '../dashboard');
export const DASHBOARD_DIST = join(DASHBOARD_DIR, 'dist');

/** One listen event as the dashboard shows it. `seq` is the stream cursor. */
export interface StreamEvent {
  seq: number;
  /** When Kafka appended it (epoch ms); `ts` is when the listen happened. */
  receivedAt: number;
  partition: number;
  offset: string;
  eventId: string;
  userId: string;
  trackId: string | null;
  artistId: string | null;
  title: string | null;
  artistName: string | null;
  genre: string | null;
  type: string;
  ts: number;
  platform: string | null;
  country: string | null;
  mood: string | null;
}

export interface TriggerMapping {
  function: FunctionName;
  topic: string;
  mapping: EventSourceMapping;
}

export interface StatsOptions {
  kafka: Kafka;
  topology: ResolvedTopology;
  dynamodbEndpoint: string;
  region?: string;
  /** The pipeline's event source mappings, for lag and failure counts. */
  triggers: readonly TriggerMapping[];
  /** Recent events kept for the stream (default 2000). */
  capacity?: number;
  /** Window of the genre distribution (default 15 minutes). */
  genreWindowMs?: number;
  log?: LogLine;
}

export interface StatsModule {
  routes: ExtraRoute[];
  stop(): Promise<void>;
}

const RATE_WINDOW_S = 60;
/** The same paths the cloud serves through `dashboard-stats` (shared/topology.ts dashboardRoutes). */
const STATS_PATH = dashboardApiRoutes[0].path;
const STREAM_PATH = dashboardApiRoutes[1].path;
const MAX_RECENT = 20;

interface CatalogEntry {
  item: CatalogItem | undefined;
  expires: number;
}

export async function startStats(opts: StatsOptions): Promise<StatsModule> {
  const log = opts.log ?? silentLog;
  const capacity = opts.capacity ?? 2000;
  const genreWindowMs = opts.genreWindowMs ?? 15 * 60_000;
  const { topicNames } = opts.topology;
  const stores: Stores = createStores(
    { endpoint: opts.dynamodbEndpoint, region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1' },
    opts.topology.tableNames,
  );

  const ring: StreamEvent[] = [];
  let seq = 0;
  let total = 0;
  /** Events per second of append time, for the last minute. */
  const perSecond = new Map<number, number>();
  /** Light entries for the genre window, oldest first (bounded by time and size). */
  const window: { at: number; genre: string | null; trackId: string | null }[] = [];
  const facets = { platforms: new Set<string>(), countries: new Set<string>() };
  const deadLetters = { count: 0, byReason: {} as Record<string, number>, latest: [] as object[] };
  const deadLetterRecords = new Set<string>();
  const errors: { at: number; source: string; message: string }[] = [];
  const pushRecent = <T>(list: T[], item: T) => {
    list.unshift(item);
    list.length = Math.min(list.length, MAX_RECENT);
  };
  const noteError = (source: string, message: string) => pushRecent(errors, { at: Date.now(), source, message });

  // The catalog rarely changes; a short-lived cache keeps a burst of plays to one BatchGet.
  const catalog = new Map<string, CatalogEntry>();
  // Keyed by catalog itemId (`t#…` / `a#…`): a play of a track the catalog lacks shows its artist's genre.
  const lookup = async (itemIds: string[], now: number) => {
    const missing = [...new Set(itemIds)].filter((id) => (catalog.get(id)?.expires ?? 0) < now);
    if (missing.length === 0) return;
    const found = await getCatalogItems(stores, missing);
    if (catalog.size > 50_000) catalog.clear();
    for (const id of missing) {
      const item = found.get(id);
      catalog.set(id, { item, expires: now + (item ? 10 * 60_000 : 5_000) });
    }
  };
  const genreOf = (item: CatalogItem | undefined): string | null => {
    if (!item) return null;
    if (item.primaryGenre) return item.primaryGenre;
    const top = Object.entries(item.genres ?? {}).sort((a, b) => b[1] - a[1])[0];
    return top?.[0] ?? null;
  };

  const prune = (now: number) => {
    const nowS = Math.floor(now / 1000);
    for (const s of perSecond.keys()) if (s <= nowS - RATE_WINDOW_S) perSecond.delete(s);
    let drop = 0;
    while (drop < window.length && window[drop]!.at < now - genreWindowMs) drop++;
    if (window.length - drop > 100_000) drop = window.length - 100_000;
    if (drop > 0) window.splice(0, drop);
  };

  const seenEvents = new Set<string>();
  const ingest = async (
    batch: { partition: number; messages: { offset: string; timestamp: string; value: Buffer | null }[] },
    now = Date.now(),
    /** now-playing notices: shown in the stream as `playing_now`, not counted as plays. */
    playingNow = false,
  ) => {
    const parsed: { e: ListenEventV1; at: number; offset: string }[] = [];
    for (const m of batch.messages) {
      let e: ListenEventV1;
      try {
        e = ListenEventV1.parse(JSON.parse(m.value?.toString('utf8') ?? ''));
      } catch (err) {
        noteError('listen-events', `partition ${batch.partition} offset ${m.offset}: ${(err as Error).message}`);
        continue;
      }
      parsed.push({ e, at: Number(m.timestamp), offset: m.offset });
    }
    const itemIds = parsed.flatMap((p) => [
      ...(p.e.trackId ? [trackItemId(p.e.trackId)] : []),
      ...(p.e.artistId ? [artistItemId(p.e.artistId)] : []),
    ]);
    try {
      await lookup(itemIds, now);
    } catch (err) {
      noteError('catalog', `genre lookup failed: ${(err as Error).message}`);
    }
    for (const { e, at, offset } of parsed) {
      // Delivery is at-least-once (a rebalance under load re-delivers a batch, a producer retry
      // can write a record twice): each event is shown and counted once, by its idempotency key.
      const key = `${playingNow ? 'np' : 'le'}:${e.eventId}`;
      if (seenEvents.has(key)) continue;
      if (seenEvents.size >= 100_000) seenEvents.clear();
      seenEvents.add(key);
      const item = e.trackId ? catalog.get(trackItemId(e.trackId))?.item : undefined;
      const artist = e.artistId ? catalog.get(artistItemId(e.artistId))?.item : undefined;
      const ev: StreamEvent = {
        seq: ++seq,
        receivedAt: at,
        partition: batch.partition,
        offset,
        eventId: e.eventId,
        userId: e.userId,
        trackId: e.trackId ?? null,
        artistId: e.artistId ?? null,
        title: e.trackName ?? item?.name ?? null,
        artistName: e.artistName ?? item?.artistName ?? null,
        genre: genreOf(item) ?? genreOf(artist),
        type: playingNow ? 'playing_now' : e.type,
        ts: e.ts,
        platform: e.platform ?? null,
        country: e.country ?? null,
        mood: e.mood ?? null,
      };
      ring.push(ev);
      if (playingNow) continue;
      total++;
      if (ev.platform) facets.platforms.add(ev.platform);
      if (ev.country) facets.countries.add(ev.country);
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      window.push({ at, genre: ev.genre, trackId: ev.trackId });
    }
    if (ring.length > capacity) ring.splice(0, ring.length - capacity);
    prune(now);
  };

  const ingestDeadLetter = (value: Buffer | null) => {
    const parsed = DeadLetterV1.safeParse(JSON.parse(value?.toString('utf8') ?? 'null'));
    if (!parsed.success) {
      deadLetters.count++;
      noteError('dead-letters', 'a dead letter that does not match DeadLetterV1');
      return;
    }
    const d = parsed.data;
    // Every consumer of a topic dead-letters a bad record on its own (profile-updater and
    // event-archiver both read listen-events): count bad records, not letters.
    const coordinates = `${d.sourceTopic}/${d.partition}/${d.offset}`;
    if (deadLetterRecords.has(coordinates)) return;
    if (deadLetterRecords.size >= 100_000) deadLetterRecords.clear();
    deadLetterRecords.add(coordinates);
    deadLetters.count++;
    deadLetters.byReason[d.reason] = (deadLetters.byReason[d.reason] ?? 0) + 1;
    const { value: _v, key: _k, ...shown } = d;
    pushRecent(deadLetters.latest, shown);
    if (d.error) noteError(d.function, `${d.reason}: ${d.error}`);
  };

  const kafka = opts.kafka;
  // Its own group (per environment prefix) so the dashboard never moves the triggers' offsets.
  const consumer: Consumer = kafka.consumer({ groupId: `${opts.topology.prefix}dashboard-stats` });
  await consumer.connect();
  await consumer.subscribe({
    topics: [topicNames.listenEvents, topicNames.deadLetters, topicNames.nowPlaying],
    fromBeginning: true,
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      try {
        if (batch.topic === topicNames.deadLetters) for (const m of batch.messages) ingestDeadLetter(m.value);
        else await ingest(batch, Date.now(), batch.topic === topicNames.nowPlaying);
      } catch (err) {
        // Stats are best effort: a bad record must not stall the dashboard's consumer.
        noteError('stats', (err as Error).message);
      }
    },
  });
  log(`[stats] consuming ${topicNames.listenEvents} and ${topicNames.deadLetters} for the dashboard`);

  const stream = (query: z.infer<typeof StreamQuery>) => {
    const country = query.country?.toUpperCase();
    const matches = (e: StreamEvent) =>
      e.seq > query.since &&
      (!query.genre || e.genre === query.genre) &&
      (!query.platform || e.platform === query.platform) &&
      (!country || e.country === country) &&
      (!query.type || e.type === query.type) &&
      (!query.user || e.userId === query.user);
    const events: StreamEvent[] = [];
    for (let i = ring.length - 1; i >= 0 && events.length < query.limit; i--) {
      const e = ring[i]!;
      if (e.seq <= query.since) break;
      if (matches(e)) events.push(e);
    }
    // Newest first; `cursor` is what to pass as `since` next time.
    return { cursor: seq, events };
  };

  const stats = async (now = Date.now()) => {
    prune(now);
    const nowS = Math.floor(now / 1000);
    const series = Array.from({ length: RATE_WINDOW_S }, (_, i) => perSecond.get(nowS - RATE_WINDOW_S + 1 + i) ?? 0);
    const triggers = await Promise.all(
      opts.triggers.map(async (t) => {
        const s = t.mapping.stats();
        let lag: Record<number, number>;
        try {
          lag = await t.mapping.lag();
        } catch (err) {
          // The broker answer is exact; the mapping's own view is the fallback when it is unreachable.
          noteError(t.function, `lag query failed: ${(err as Error).message}`);
          lag = s.lagByPartition;
        }
        return {
          function: t.function,
          topic: t.topic,
          groupId: t.mapping.groupId,
          lag,
          totalLag: Object.values(lag).reduce((a, b) => a + b, 0),
          batches: s.batches,
          records: s.records,
          failures: s.failures,
          deadLettered: s.deadLettered,
          inFlight: s.inFlight,
        };
      }),
    );
    const genreCounts = new Map<string, { count: number; tracks: Map<string, number> }>();
    for (const w of window) {
      const g = w.genre ?? 'unknown';
      const entry = genreCounts.get(g) ?? { count: 0, tracks: new Map() };
      entry.count++;
      if (w.trackId) entry.tracks.set(w.trackId, (entry.tracks.get(w.trackId) ?? 0) + 1);
      genreCounts.set(g, entry);
    }
    const genres = [...genreCounts.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(([genre, { count, tracks }]) => ({
        genre,
        count,
        topTracks: [...tracks.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([trackId, plays]) => {
            const item = catalog.get(trackItemId(trackId))?.item;
            return { trackId, title: item?.name ?? null, artistName: item?.artistName ?? null, plays };
          }),
      }));
    return {
      now,
      totalEvents: total,
      eventsPerSecond: Math.round((series.reduce((a, b) => a + b, 0) / RATE_WINDOW_S) * 100) / 100,
      rateSeries: series,
      genreWindowSeconds: genreWindowMs / 1000,
      genres,
      triggers,
      deadLetters,
      errors,
      facets: { platforms: [...facets.platforms].sort(), countries: [...facets.countries].sort() },
    };
  };

  const routes: ExtraRoute[] = [
    {
      path: STREAM_PATH,
      requireAuth: true,
      handler: (req, res) => {
        const url = new URL(req.url ?? '/', 'http://local');
        const parsed = StreamQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => ({
            path: i.path.join('.') || '(query)',
            message: i.message,
          }));
          return sendJson(res, 400, { message: 'invalid query', issues });
        }
        sendJson(res, 200, stream(parsed.data));
      },
    },
    { path: STATS_PATH, requireAuth: true, handler: async (_req, res) => sendJson(res, 200, await stats()) },
  ];

  return {
    routes,
    stop: async () => {
      await consumer.disconnect().catch(() => undefined);
      stores.client.destroy();
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': payload.length,
    'cache-control': 'no-store',
  });
  res.end(payload);
}

// ---------------------------------------------------------------------------------------------
// The static dashboard

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const PAGE_HEADERS = {
  // The token travels in the page URL once: never send it on as a referrer.
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tunestream dashboard</title>
<body style="font:16px system-ui;margin:3rem"><h1>Dashboard not built</h1>
<p>Run <code>npm run dashboard:build</code>, then reload this page.</p></body>`;

/** Public routes serving the dashboard build: `/` (index.html) and `/assets/*` (hashed files). */
export function dashboardRoutes(dist = DASHBOARD_DIST): ExtraRoute[] {
  const serve = async (res: ServerResponse, file: string, cache: string) => {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (file.endsWith('index.html')) return sendPage(res, 503, NOT_BUILT);
      return sendJson(res, 404, { message: 'Not Found' });
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': cache,
      ...PAGE_HEADERS,
    });
    res.end(body);
  };
  return [
    { path: '/', handler: (_req, res) => serve(res, join(dist, 'index.html'), 'no-cache') },
    {
      path: '/assets/',
      prefix: true,
      handler: (req: IncomingMessage, res) => {
        const rawPath = new URL(req.url ?? '/', 'http://local').pathname;
        const file = normalize(join(dist, decodeURIComponent(rawPath)));
        if (!file.startsWith(join(dist, 'assets') + sep)) return sendJson(res, 404, { message: 'Not Found' });
        // Vite hashes asset names, so they never change under the same URL.
        return serve(res, file, 'public, max-age=31536000, immutable');
      },
    },
  ];
}

function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...PAGE_HEADERS });
  res.end(html);
}

/** Builds the dashboard with Vite (a dev dependency, loaded only when a build is needed). */
export async function buildDashboard(opts: { ifMissing?: boolean; log?: LogLine } = {}): Promise<void> {
  if (opts.ifMissing && existsSync(join(DASHBOARD_DIST, 'index.html'))) return;
  (opts.log ?? silentLog)('building the dashboard (vite)…');
  const { build } = await import('vite');
  await build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'warn' });
}
