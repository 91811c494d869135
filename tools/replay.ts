/**
 * Replay a data set into a running pipeline at a target rate, over the HTTP API or straight onto
 * Kafka. See --help.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Partitioners, type Producer } from 'kafkajs';
import { createKafka } from '../shared/adapters/kafka-client.ts';
import { upsertItemId } from '../shared/domain/catalog/catalog.ts';
import type { ResolutionCounts } from '../shared/domain/catalog/name-resolution.ts';
import { ArtistUpsertV1, ListenEventV1, TrackUpsertInput } from '../shared/domain/events/events.ts';
import { resolveTopology } from '../shared/topology.ts';
import { archiveEvents } from './loaders/archive.ts';
import { eventsimEvents } from './loaders/eventsim.ts';
import { artistTagCountsOf, artistUpserts, loadLastfm, pairEvents } from './loaders/lastfm.ts';
import { LoadStats } from './loaders/lines.ts';
import { spotifyHistoryEvents } from './loaders/spotify-history.ts';
import { spotifyTracks } from './loaders/spotify-tracks.ts';
import { TokenBucket } from './replay/token-bucket.ts';

const SOURCES = ['lastfm', 'spotify-tracks', 'eventsim', 'spotify-history', 'archive'] as const;
type Source = (typeof SOURCES)[number];

const HELP = `Usage: npm run replay -- --source <${SOURCES.join('|')}> --path <dir|file> [options]

Streams a data set into a running pipeline (npm start) at a target rate.
  lastfm            hetrec-2011 dir: artist catalog (genres from tags), then plays spread over
                    each user's tagging window (⌈log2(1+plays)⌉ ≤ 16 events per user–artist pair)
  spotify-tracks    tracks CSV → catalog upserts
  eventsim          JSON-lines file or dir of them → play events (page == NextSong)
  spotify-history   Streaming_History_Audio_*.json file or dir → play / skip events
  archive           the raw event archive (event-archiver's ARCHIVE_DIR, e.g. .data/archive, or a
                    year=/month=/day=/hour= dir below it; an S3 archive: aws s3 sync it first),
                    re-sent in time order with their original eventIds. A profile drops only
                    eventIds within its recent-eventId window, so re-sending events a profile has
                    already applied can double-count them. Meant for rebuilding profiles into
                    fresh tables: provision a new prefix (npm run infra -- --prefix p), run a
                    pipeline on it, then replay with --via kafka --prefix p.

Options:
  --rate <n>        events per second (default 1000; 0 = unlimited)
  --via <http|kafka>  (default http)
  --limit <n>       stop after n records
  --api <url>       HTTP API (default http://127.0.0.1:3000)
  --token <t>       bearer token (default $API_TOKEN, else .data/api-token)
  --brokers <list>  Kafka brokers for --via kafka (default $KAFKA_BROKERS)
  --prefix <p>      topic name prefix for --via kafka (default none)
  --skip-bad        skip (and count) malformed input lines instead of failing
  -h, --help        this help
Ctrl-C stops after the batch in flight and prints the summary.`;

export type ReplayRecord =
  | { kind: 'event'; event: ListenEventV1 }
  | { kind: 'catalog'; item: TrackUpsertInput | ArtistUpsertV1 };

async function jsonFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(path, f));
}

export async function* records(source: Source, path: string, stats: LoadStats): AsyncGenerator<ReplayRecord> {
  const skipBad = stats.skipBad;
  switch (source) {
    case 'lastfm': {
      const ds = await loadLastfm(path, { skipBad, onProgress: (m) => console.error(`  ${m}`) });
      for (const item of artistUpserts(
        ds.artists,
        ds.tagging.artistGenres,
        Date.UTC(2011, 4, 1),
        artistTagCountsOf(ds.tagging.assignments),
      ))
        yield { kind: 'catalog', item };
      for (const p of ds.userArtists)
        for (const event of pairEvents(p, ds.tagging.userWindows.get(p.userId))) yield { kind: 'event', event };
      return;
    }
    case 'spotify-tracks':
      for await (const item of spotifyTracks(path, { stats })) yield { kind: 'catalog', item };
      return;
    case 'eventsim':
      for (const f of await jsonFiles(path))
        for await (const event of eventsimEvents(f, { stats })) yield { kind: 'event', event };
      return;
    case 'spotify-history':
      for await (const event of spotifyHistoryEvents(path, { stats })) yield { kind: 'event', event };
      return;
    case 'archive':
      for await (const event of archiveEvents(path, { stats })) yield { kind: 'event', event };
      return;
  }
}

interface Sent {
  accepted: number;
  rejected: number;
  /** What ingest reports about names resolved to the catalog (POST /events only). */
  resolution?: ResolutionCounts;
}

export type Sender = (kind: ReplayRecord['kind'], batch: unknown[]) => Promise<Sent>;

export function httpSender(api: string, token: string): Sender {
  return async (kind, batch) => {
    const path = kind === 'event' ? '/events' : '/tracks';
    const body = JSON.stringify(kind === 'event' ? { events: batch } : { tracks: batch });
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      try {
        res = await fetch(`${api}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        });
      } catch (err) {
        if (attempt >= 5) throw new Error(`POST ${api}${path}: ${(err as Error).message} (is npm start running?)`);
      }
      if (res) {
        const out = (await res.json().catch(() => ({}))) as {
          accepted?: number;
          rejected?: unknown[];
          message?: string;
          resolution?: ResolutionCounts;
        };
        if (res.status === 202 || res.status === 400)
          return {
            accepted: out.accepted ?? 0,
            rejected: out.rejected?.length ?? batch.length - (out.accepted ?? 0),
            ...(out.resolution ? { resolution: out.resolution } : {}),
          };
        if (res.status === 401 || res.status === 403)
          throw new Error(`POST ${path}: ${res.status} ${out.message ?? ''} — check --token / .data/api-token`);
        if (res.status < 500 && res.status !== 429 && res.status !== 408)
          throw new Error(`POST ${path}: ${res.status} ${out.message ?? JSON.stringify(out)}`);
        if (attempt >= 5) throw new Error(`POST ${path}: ${res.status} after ${attempt + 1} attempts`);
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  };
}

/** Validates like the ingest functions do, then produces with the same keys and headers. */
export function kafkaSender(producer: Producer, prefix: string): Sender {
  const topics = resolveTopology(prefix).topicNames;
  return async (kind, batch) => {
    const messages = [];
    let rejected = 0;
    for (const raw of batch) {
      if (kind === 'event') {
        const e = ListenEventV1.safeParse(raw);
        if (!e.success) {
          rejected++;
          continue;
        }
        messages.push({
          key: e.data.userId,
          value: JSON.stringify({ ...e.data, v: 1 }),
          headers: { 'content-type': 'application/json', schema: 'listen-event-v1' },
        });
      } else {
        const t = TrackUpsertInput.safeParse(raw);
        const a = t.success ? undefined : ArtistUpsertV1.safeParse(raw);
        const item = t.success ? t.data : a?.success ? a.data : undefined;
        if (!item) {
          rejected++;
          continue;
        }
        const isTrack = 'trackId' in item;
        messages.push({
          key: upsertItemId(item),
          value: JSON.stringify({ ...item, updatedAt: item.updatedAt ?? Date.now(), v: 1 }),
          headers: { 'content-type': 'application/json', schema: isTrack ? 'track-upsert-v1' : 'artist-upsert-v1' },
        });
      }
    }
    if (messages.length > 0)
      await producer.send({ topic: kind === 'event' ? topics.listenEvents : topics.tracks, acks: -1, messages });
    return { accepted: messages.length, rejected };
  };
}

export interface ReplayOptions {
  rate: number;
  limit?: number;
  batchSize?: number;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ReplaySummary {
  sent: number;
  accepted: number;
  rejected: number;
  seconds: number;
  /** Listens that came by name and how many the catalog's name index resolved (via http). */
  resolution: ResolutionCounts;
}

/** Drives records through `send` in same-kind batches of ≤ 500, paced by a token bucket. */
export async function replay(
  source: AsyncIterable<ReplayRecord>,
  send: Sender,
  opts: ReplayOptions,
): Promise<ReplaySummary> {
  // Small batches at low rates keep the pace smooth; at most 500 per POST (the API's limit).
  const batchSize = opts.batchSize ?? Math.max(1, Math.min(500, opts.rate > 0 ? Math.ceil(opts.rate / 4) : 500));
  const bucket = opts.rate > 0 ? new TokenBucket(opts.rate, Math.max(opts.rate, batchSize)) : undefined;
  const started = performance.now();
  const sum: ReplaySummary = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    seconds: 0,
    resolution: { named: 0, resolved: 0, withGenres: 0 },
  };
  let lastProgress = started;
  let batch: unknown[] = [];
  let kind: ReplayRecord['kind'] = 'event';
  const flush = async () => {
    if (batch.length === 0) return;
    if (bucket) await bucket.take(batch.length);
    const r = await send(kind, batch);
    sum.sent += batch.length;
    sum.accepted += r.accepted;
    sum.rejected += r.rejected;
    if (r.resolution) {
      sum.resolution.named += r.resolution.named;
      sum.resolution.resolved += r.resolution.resolved;
      sum.resolution.withGenres += r.resolution.withGenres;
    }
    batch = [];
    const now = performance.now();
    if (opts.onProgress && now - lastProgress > 1000) {
      lastProgress = now;
      const secs = (now - started) / 1000;
      const rate = sum.sent / secs;
      const eta = opts.limit ? ` ETA ${Math.max(0, (opts.limit - sum.sent) / rate).toFixed(0)} s` : '';
      opts.onProgress(
        `sent ${sum.sent} (${sum.accepted} accepted, ${sum.rejected} rejected) ${rate.toFixed(0)}/s${eta}`,
      );
    }
  };
  let n = 0;
  for await (const rec of source) {
    if (opts.signal?.aborted || (opts.limit !== undefined && n >= opts.limit)) break;
    n++;
    if (rec.kind !== kind || batch.length >= batchSize) await flush();
    kind = rec.kind;
    batch.push(rec.kind === 'event' ? rec.event : rec.item);
  }
  await flush();
  sum.seconds = (performance.now() - started) / 1000;
  return sum;
}

function defaultToken(): string | undefined {
  if (process.env.API_TOKEN) return process.env.API_TOKEN;
  const file = resolve('.data/api-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      path: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      via: { type: 'string', default: 'http' },
      limit: { type: 'string' },
      api: { type: 'string', default: 'http://127.0.0.1:3000' },
      token: { type: 'string' },
      brokers: { type: 'string' },
      prefix: { type: 'string', default: '' },
      'skip-bad': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void console.log(HELP);
  const source = values.source as Source;
  if (!SOURCES.includes(source)) throw new Error(`--source must be one of ${SOURCES.join(', ')} (see --help)`);
  if (!values.path) throw new Error('--path is required (see --help)');
  const rate = Number(values.rate);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (!(rate >= 0)) throw new Error('--rate must be a number ≥ 0');
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new Error('--limit must be a positive integer');

  let send: Sender;
  let close = async () => {};
  if (values.via === 'http') {
    const token = values.token ?? defaultToken();
    if (!token)
      throw new Error('no token: pass --token, set API_TOKEN, or run npm start once (writes .data/api-token)');
    send = httpSender(values.api.replace(/\/$/, ''), token);
  } else if (values.via === 'kafka') {
    const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
    if (brokers.length === 0) throw new Error('--via kafka needs --brokers or KAFKA_BROKERS (npm start prints them)');
    const producer = createKafka({ brokers, auth: 'none', region: 'local', clientId: 'replay' }).producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    send = kafkaSender(producer, values.prefix);
    close = () => producer.disconnect();
  } else throw new Error('--via must be http or kafka');

  const ac = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nstopping after the batch in flight (Ctrl-C again to quit now)…');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  const stats = new LoadStats(values['skip-bad']);
  console.error(
    `replaying ${source} from ${values.path} via ${values.via} at ${rate > 0 ? `${rate}/s` : 'full speed'}`,
  );
  try {
    const sum = await replay(records(source, values.path, stats), send, {
      rate,
      ...(limit !== undefined ? { limit } : {}),
      onProgress: (l) => console.error(l),
      signal: ac.signal,
    });
    if (stats.lines > 0 || stats.bad > 0) console.error(stats.summary('input'));
    console.log(
      `${ac.signal.aborted ? 'interrupted: ' : ''}sent ${sum.sent}, accepted ${sum.accepted}, rejected ${sum.rejected}, ${sum.seconds.toFixed(1)} s (${(sum.sent / Math.max(sum.seconds, 1e-9)).toFixed(0)}/s)`,
    );
    const n = sum.resolution;
    if (n.named > 0) {
      const pct = (x: number) => `${((100 * x) / n.named).toFixed(1)} %`;
      console.log(
        `names: ${n.named} listens came by name; ${n.resolved} (${pct(n.resolved)}) resolved to the catalog, ${n.withGenres} (${pct(n.withGenres)}) to an item with genres`,
      );
    }
    if (ac.signal.aborted) process.exitCode = 130;
  } finally {
    await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  main().catch((err) => {
    console.error(`replay: ${(err as Error).message}`);
    process.exit(1);
  });
