/**
 * GET /api/stats and GET /api/stream in the cloud: the live dashboard's read-only endpoints, with
 * the answers the local runtime gives (local/stats.ts) but from what the cloud already records:
 * - stats from CloudWatch metrics (events accepted per second, consumer lag per trigger, function
 *   errors, dead letters), one GetMetricData call, cached per container for a minute (metrics
 *   are per minute anyway, and each call is billed per metric);
 * - recent events from the newest objects of the raw event archive (S3), genres from the
 *   catalog, cached per container for 5 s: a few S3 requests per poll, no consumer to keep up.
 *
 * @routes GET /api/stats, GET /api/stream
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { type _Object, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { getCatalogItems } from '../../shared/adapters/dynamodb/catalog.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { hourPartition } from '../../shared/domain/archive.ts';
import { type CatalogItem, trackItemId } from '../../shared/domain/catalog.ts';
import { StreamQuery } from '../../shared/domain/events.ts';
import { ConfigurationError } from '../../shared/errors.ts';
import { HttpError, type HttpResult, json, parseQuery } from '../../shared/handlers/http.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { dashboardRoutes, type FunctionName, topicEnvVar, triggers } from '../../shared/topology.ts';

const tools = observability('dashboard-stats');

export const STATS_TTL_MS = 60_000;
export const STREAM_TTL_MS = 5_000;
/** Newest archive objects read per refresh (each holds one batch of one partition). */
const OBJECTS_PER_REFRESH = 6;
const WINDOW_MINUTES = 15;

export interface CloudStreamEvent {
  seq: number;
  receivedAt: number;
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
}

/**
 * A stream cursor that only grows: the archive object's write time in ms, times 1000, plus the
 * line's index (an object holds at most one batch, ≤ 1,000 records). Exact in a double until 2255.
 */
export const streamSeq = (lastModifiedMs: number, line: number): number => lastModifiedMs * 1000 + Math.min(line, 999);

/** Archive lines (the event plus `_offset`) → dashboard events, genre left for the catalog lookup. */
export function parseArchiveObject(body: string, lastModifiedMs: number): CloudStreamEvent[] {
  const out: CloudStreamEvent[] = [];
  body.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      const str = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : null);
      if (typeof e.userId !== 'string' || typeof e.ts !== 'number') return;
      out.push({
        seq: streamSeq(lastModifiedMs, i),
        receivedAt: lastModifiedMs,
        userId: e.userId,
        trackId: str('trackId'),
        artistId: str('artistId'),
        title: null,
        artistName: null,
        genre: null,
        type: str('type') ?? 'play',
        ts: e.ts,
        platform: str('platform'),
        country: str('country'),
      });
    } catch {
      // A line that is not JSON is not an event; the archive is append-only, so skip it.
    }
  });
  return out;
}

/** The dashboard's filters, newest first, after the cursor. */
export function filterStream(events: readonly CloudStreamEvent[], query: z.infer<typeof StreamQuery>) {
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
  const cursor = Math.max(query.since, ...events.map((e) => e.seq));
  return { cursor, events: matches.slice(0, query.limit) };
}

// ---------------------------------------------------------------------------------------------
// Recent events from the archive

const s3 = new S3Client({});
let recent: { at: number; events: CloudStreamEvent[] } | undefined;

async function listNewest(bucket: string, now: number): Promise<_Object[]> {
  // Hour partitions are by event time; the current and the previous hour hold what just arrived.
  const prefixes = [hourPartition(now), hourPartition(now - 3_600_000)];
  const pages = await Promise.all(
    prefixes.map((p) => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${p}/`, MaxKeys: 1000 }))),
  );
  return pages
    .flatMap((p) => p.Contents ?? [])
    .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))
    .slice(0, OBJECTS_PER_REFRESH);
}

async function recentEvents(now = Date.now()): Promise<CloudStreamEvent[]> {
  if (recent && now - recent.at < STREAM_TTL_MS) return recent.events;
  const bucket = process.env.ARCHIVE_BUCKET;
  if (!bucket) throw new ConfigurationError('ARCHIVE_BUCKET is not set');
  const objects = await listNewest(bucket, now);
  const bodies = await Promise.all(
    objects.map(async (o) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      return parseArchiveObject((await res.Body?.transformToString()) ?? '', o.LastModified?.getTime() ?? now);
    }),
  );
  const events = bodies.flat();
  const trackIds = [...new Set(events.map((e) => e.trackId).filter((t): t is string => t !== null))];
  const catalog =
    trackIds.length > 0
      ? await getCatalogItems(storesFromEnv(), trackIds.map(trackItemId))
      : new Map<string, CatalogItem>();
  for (const e of events) {
    const item = e.trackId ? catalog.get(trackItemId(e.trackId)) : undefined;
    if (!item) continue;
    e.title = item.name;
    e.artistName = item.artistName ?? null;
    e.genre = item.primaryGenre ?? Object.entries(item.genres ?? {}).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  }
  recent = { at: now, events };
  return events;
}

// ---------------------------------------------------------------------------------------------
// Health from CloudWatch

const cloudwatch = new CloudWatchClient({});
let stats: { at: number; body: unknown } | undefined;

/** Deployed function names by topology name (set by the stack: `FUNCTION_NAMES`, JSON). */
function deployedNames(): Partial<Record<FunctionName, string>> {
  return JSON.parse(process.env.FUNCTION_NAMES ?? '{}') as Partial<Record<FunctionName, string>>;
}

/** The metric queries /api/stats needs: one id per series (ids must start with a lowercase letter). */
export function metricQueries(
  names: Partial<Record<FunctionName, string>>,
  namespace: string,
  service: string,
): MetricDataQuery[] {
  const app = (id: string, metric: string, fn: FunctionName): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: metric,
        Dimensions: [
          { Name: 'service', Value: service },
          { Name: 'function', Value: fn },
        ],
      },
      Period: 60,
      Stat: 'Sum',
    },
  });
  const lambda = (id: string, metric: string, fnName: string, stat: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: fnName }] },
      Period: 60,
      Stat: stat,
    },
  });
  const queries: MetricDataQuery[] = [app('accepted', 'EventsAccepted', 'ingest-events')];
  triggers.forEach((t, i) => {
    const deployed = names[t.function];
    if (deployed) queries.push(lambda(`lag${i}`, 'OffsetLag', deployed, 'Maximum'));
    queries.push(app(`dead${i}`, 'DeadLettered', t.function));
  });
  Object.entries(names).forEach(([, deployed], i) => {
    if (deployed) queries.push(lambda(`err${i}`, 'Errors', deployed, 'Sum'));
  });
  return queries;
}

const valuesOf = (results: MetricDataResult[], id: string) => results.find((r) => r.Id === id);
const latest = (r: MetricDataResult | undefined) => r?.Values?.[0] ?? 0;
const sum = (r: MetricDataResult | undefined) => (r?.Values ?? []).reduce((a, b) => a + b, 0);

/** CloudWatch results + recent events → the dashboard's Stats shape (dashboard/src/api.ts). */
export function statsBody(
  results: MetricDataResult[],
  names: Partial<Record<FunctionName, string>>,
  events: readonly CloudStreamEvent[],
  now: number,
) {
  const accepted = valuesOf(results, 'accepted');
  // CloudWatch returns newest first; the chart wants oldest first, per second.
  const rateSeries = [...(accepted?.Values ?? [])].reverse().map((v) => v / 60);
  const window = events.filter((e) => e.receivedAt >= now - WINDOW_MINUTES * 60_000);
  const byGenre = new Map<string, { count: number; tracks: Map<string, CloudStreamEvent & { plays: number }> }>();
  for (const e of window) {
    if (!e.genre) continue;
    const g = byGenre.get(e.genre) ?? { count: 0, tracks: new Map() };
    g.count++;
    if (e.trackId) {
      const t = g.tracks.get(e.trackId) ?? { ...e, plays: 0 };
      t.plays++;
      g.tracks.set(e.trackId, t);
    }
    byGenre.set(e.genre, g);
  }
  const deadLetters = triggers.reduce((n, _t, i) => n + sum(valuesOf(results, `dead${i}`)), 0);
  const errors = Object.entries(names).flatMap(([fn], i) => {
    const r = valuesOf(results, `err${i}`);
    const n = sum(r);
    return n > 0
      ? [{ at: r?.Timestamps?.[0]?.getTime() ?? now, source: fn, message: `${n} errors in ${WINDOW_MINUTES} min` }]
      : [];
  });
  return {
    totalEvents: sum(accepted),
    eventsPerSecond: latest(accepted) / 60,
    rateSeries,
    genreWindowSeconds: WINDOW_MINUTES * 60,
    genres: [...byGenre.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(([genre, g]) => ({
        genre,
        count: g.count,
        topTracks: [...g.tracks.values()]
          .sort((a, b) => b.plays - a.plays)
          .slice(0, 5)
          .map((t) => ({ trackId: t.trackId!, title: t.title, artistName: t.artistName, plays: t.plays })),
      })),
    triggers: triggers.map((t, i) => {
      const lag = latest(valuesOf(results, `lag${i}`));
      return {
        function: t.function,
        topic: process.env[topicEnvVar(t.topic)] ?? t.topic,
        // Lambda reports the mapping's lag (its largest partition), not each partition's.
        lag: {} as Record<string, number>,
        totalLag: lag,
        failures: 0,
        deadLettered: sum(valuesOf(results, `dead${i}`)),
      };
    }),
    deadLetters: { count: deadLetters, byReason: {}, latest: [] },
    errors,
    facets: {
      platforms: [...new Set(events.map((e) => e.platform).filter((p): p is string => p !== null))].sort(),
      countries: [...new Set(events.map((e) => e.country).filter((c): c is string => c !== null))].sort(),
    },
  };
}

async function currentStats(now = Date.now()): Promise<unknown> {
  if (stats && now - stats.at < STATS_TTL_MS) return stats.body;
  const names = deployedNames();
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'tunestream';
  const service = process.env.POWERTOOLS_SERVICE_NAME ?? 'tunestream';
  const end = new Date(Math.floor(now / 60_000) * 60_000);
  const [metrics, events] = await Promise.all([
    cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: metricQueries(names, namespace, service),
        StartTime: new Date(end.getTime() - WINDOW_MINUTES * 60_000),
        EndTime: end,
        ScanBy: 'TimestampDescending',
      }),
    ),
    recentEvents(now),
  ]);
  const body = statsBody(metrics.MetricDataResults ?? [], names, events, now);
  stats = { at: now, body };
  return body;
}

export async function dashboardStats(event: APIGatewayProxyEventV2): Promise<HttpResult> {
  try {
    const path = event.rawPath;
    if (path === dashboardRoutes[0].path) return json(200, await currentStats());
    if (path === dashboardRoutes[1].path) {
      const query = parseQuery(event, StreamQuery);
      return json(200, filterStream(await recentEvents(), query));
    }
    return json(404, { message: 'Not Found' });
  } catch (err) {
    if (err instanceof HttpError) return err.toResult();
    throw err;
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => dashboardStats(event), tools);
