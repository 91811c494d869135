/**
 * The dashboard's sources in the cloud, from what the cloud already records (and the attribution
 * counters, read from DynamoDB as the local runtime does: counters-source.ts):
 * - metrics from CloudWatch (events accepted per second, consumer lag per trigger, function
 *   errors, dead letters): one GetMetricData call, cached per container for a minute (metrics
 *   are per minute anyway, and each call is billed per metric);
 * - the stream from the newest objects of the raw event archive (S3), names and genres from the
 *   catalog, cached per container for 5 s: a few S3 requests per poll, no consumer to keep up.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { type _Object, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CatalogItemCache } from '../../shared/adapters/catalog-cache.ts';
import { experimentsStoreFromEnv } from '../../shared/adapters/dynamodb/experiments.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { hourPartition } from '../../shared/domain/events/archive.ts';
import { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { ConfigurationError } from '../../shared/errors.ts';
import { type FunctionName, topicEnvVar, triggers } from '../../shared/topology.ts';
import { countersSource } from './counters-source.ts';
import {
  catalogIdsOf,
  type DashboardSources,
  type MetricsSource,
  type StreamSource,
  toStreamEvent,
} from './dashboard.ts';
import type { Health, StreamEvent } from './types.ts';

export const STATS_TTL_MS = 60_000;
export const STREAM_TTL_MS = 5_000;
/** Newest archive objects read per refresh (each holds one batch of one partition). */
const OBJECTS_PER_REFRESH = 6;
/** The metrics read: rates, lag and errors of the last quarter hour. */
const METRICS_MINUTES = 15;

export function cloudSources(): DashboardSources {
  return {
    metrics: cloudWatchMetrics(new CloudWatchClient({})),
    stream: archiveStream(new S3Client({})),
    experiments: countersSource(() => experimentsStoreFromEnv()),
  };
}

// ---------------------------------------------------------------------------------------------
// The stream: the newest archived events

/**
 * A stream cursor that only grows: the archive object's write time in ms, times 1000, plus the
 * line's index (an object holds at most one batch, ≤ 1,000 records). Exact in a double until 2255.
 */
export const streamSeq = (lastModifiedMs: number, line: number): number => lastModifiedMs * 1000 + Math.min(line, 999);

export interface ArchivedListen {
  event: ListenEventV1;
  seq: number;
  receivedAt: number;
}

/** Archive lines (the event plus `_offset`) → listen events with their place in the stream. */
export function parseArchiveObject(body: string, lastModifiedMs: number): ArchivedListen[] {
  const out: ArchivedListen[] = [];
  body.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let parsed: ReturnType<typeof ListenEventV1.safeParse>;
    try {
      parsed = ListenEventV1.safeParse(JSON.parse(line));
    } catch {
      return; // A line that is not JSON is not an event; the archive is append-only, so skip it.
    }
    if (parsed.success) out.push({ event: parsed.data, seq: streamSeq(lastModifiedMs, i), receivedAt: lastModifiedMs });
  });
  return out;
}

/** Each listen once, by eventId (a producer's retry can archive one twice): the first arrival stays. */
export function onePerEvent(listens: readonly ArchivedListen[]): ArchivedListen[] {
  const seen = new Set<string>();
  const out: ArchivedListen[] = [];
  for (const l of [...listens].sort((a, b) => a.seq - b.seq)) {
    if (seen.has(l.event.eventId)) continue;
    seen.add(l.event.eventId);
    out.push(l);
  }
  return out;
}

async function listNewest(s3: S3Client, bucket: string, now: number): Promise<_Object[]> {
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

function archiveStream(s3: S3Client): StreamSource {
  const catalog = new CatalogItemCache();
  let cached: { at: number; events: StreamEvent[] } | undefined;
  const recent = async (now: number): Promise<StreamEvent[]> => {
    if (cached && now - cached.at < STREAM_TTL_MS) return cached.events;
    const bucket = process.env.ARCHIVE_BUCKET;
    if (!bucket) throw new ConfigurationError('ARCHIVE_BUCKET is not set');
    const objects = await listNewest(s3, bucket, now);
    const bodies = await Promise.all(
      objects.map(async (o) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        return parseArchiveObject((await res.Body?.transformToString()) ?? '', o.LastModified?.getTime() ?? now);
      }),
    );
    const listens = onePerEvent(bodies.flat());
    const items = await catalog.get(storesFromEnv(), catalogIdsOf(listens.map((l) => l.event)), now);
    const events = listens.map((l) => toStreamEvent(l.event, l, items));
    cached = { at: now, events };
    return events;
  };
  return {
    recent,
    receivedSince: async (from, now) => (await recent(now)).filter((e) => e.receivedAt >= from),
    facets: async (now) => {
      const events = await recent(now);
      const values = (pick: (e: StreamEvent) => string | null) =>
        [...new Set(events.map(pick).filter((v): v is string => v !== null))].sort();
      return { platforms: values((e) => e.platform), countries: values((e) => e.country) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Metrics: CloudWatch

/** Deployed function names by topology name (set by the stack: `FUNCTION_NAMES`, JSON). */
function deployedNames(): Partial<Record<FunctionName, string>> {
  return JSON.parse(process.env.FUNCTION_NAMES ?? '{}') as Partial<Record<FunctionName, string>>;
}

/** The metric queries the health needs: one id per series (ids must start with a lowercase letter). */
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

/** CloudWatch results → the dashboard's Health (per-second rates, oldest first). */
export function healthFromMetrics(
  results: MetricDataResult[],
  names: Partial<Record<FunctionName, string>>,
  now: number,
): Health {
  const accepted = valuesOf(results, 'accepted');
  const deadLetters = triggers.reduce((n, _t, i) => n + sum(valuesOf(results, `dead${i}`)), 0);
  const errors = Object.entries(names).flatMap(([fn], i) => {
    const r = valuesOf(results, `err${i}`);
    const n = sum(r);
    return n > 0
      ? [{ at: r?.Timestamps?.[0]?.getTime() ?? now, source: fn, message: `${n} errors in ${METRICS_MINUTES} min` }]
      : [];
  });
  return {
    totalEvents: sum(accepted),
    eventsPerSecond: latest(accepted) / 60,
    // CloudWatch returns newest first; the chart wants oldest first, per second.
    rateSeries: [...(accepted?.Values ?? [])].reverse().map((v) => v / 60),
    triggers: triggers.map((t, i) => ({
      function: t.function,
      topic: process.env[topicEnvVar(t.topic)] ?? t.topic,
      // Lambda reports the mapping's lag (its largest partition), not each partition's.
      lag: {},
      totalLag: latest(valuesOf(results, `lag${i}`)),
      failures: 0,
      deadLettered: sum(valuesOf(results, `dead${i}`)),
    })),
    deadLetters: { count: deadLetters, byReason: {}, latest: [] },
    errors,
  };
}

function cloudWatchMetrics(cloudwatch: CloudWatchClient): MetricsSource {
  let cached: { at: number; health: Health } | undefined;
  return {
    health: async (now) => {
      if (cached && now - cached.at < STATS_TTL_MS) return cached.health;
      const names = deployedNames();
      const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'tunestream';
      const service = process.env.POWERTOOLS_SERVICE_NAME ?? 'tunestream';
      const end = new Date(Math.floor(now / 60_000) * 60_000);
      const metrics = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: metricQueries(names, namespace, service),
          StartTime: new Date(end.getTime() - METRICS_MINUTES * 60_000),
          EndTime: end,
          ScanBy: 'TimestampDescending',
        }),
      );
      const health = healthFromMetrics(metrics.MetricDataResults ?? [], names, now);
      cached = { at: now, health };
      return health;
    },
  };
}
