/**
 * The evaluation through the product itself (`npm run eval -- … --pipeline`): Kafka and DynamoDB
 * Local (or KAFKA_BROKERS / DYNAMODB_ENDPOINT), the local pipeline with the topology's real
 * settings, the training split produced to Kafka as listen events (one play per user–artist pair)
 * after the catalog (artists with the held-out-free genres and tags), drained through every
 * trigger (the event archiver into the run's own archive), one item model build (the SQL on
 * DuckDB over that archive, as the local schedule runs it), then GET /users/{id}/recommendations?kind=artist for every test
 * user. What the offline harness approximates (the index search, K, refresh timing, the lookup
 * cap, the read API's candidates) is all real here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { type Infrastructure, onShutdown, provisionTopology, startInfrastructure } from '../../local/infra/index.ts';
import { type LocalPipeline, startLocalPipeline, waitUntilDrained } from '../../local/pipeline.ts';
import { createStores, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { type ResolvedTopology, triggers } from '../../shared/topology.ts';
import { artistUpserts } from '../loaders/lastfm.ts';
import { kafkaSender } from '../replay.ts';
import { type EvalData, groupByUser } from './evaluate.ts';
import { type ItemSizeReport, itemSizeReport } from './item-sizes.ts';
import { evaluateLists, type Metrics } from './protocol.ts';

const TS = Date.UTC(2011, 0, 1);
/** The product's ids for the data set's users and artists (the Last.fm loader's). */
export const lastfmUserId = (u: string) => `lastfm-${u}`;
export const lastfmArtistId = (a: string) => `lastfm-a${a}`;
const DRAIN_TIMEOUT_MS = 900_000;

export interface OnlineResult {
  metrics: Metrics;
  seconds: { feed: number; drain: number; itemModel: number; queries: number; total: number };
  events: number;
  failedQueries: number;
  /** Item sizes of the state the replay left (compact and, for the same state, the former format). */
  itemSizes: ItemSizeReport;
}

/** The JVMs' logs (and, under `npm run eval`, kafkajs's) of a pipeline evaluation. */
export const EVAL_LOG_DIR = '.data/eval-logs';

/** The Last.fm world running in the product: the local pipeline after the feed, drain and item model build. */
export interface LastfmWorld {
  pipeline: LocalPipeline;
  topology: ResolvedTopology;
  dynamodbEndpoint: string;
  kafkaBrokers: string[];
  /** Training events fed (one play per user–artist pair). */
  events: number;
  seconds: { feed: number; drain: number; itemModel: number };
  /** Stops the pipeline, and the infrastructure if this started it. */
  stop(): Promise<void>;
}

/**
 * Starts the local pipeline (on `opts.infra`, else on infrastructure started here) with the
 * topology's real settings, feeds the catalog and the training split through Kafka as listen
 * events (one play per user–artist pair at `opts.ts`, default 2011-01-01: one timestamp, so no
 * decay), drains every trigger, runs one item model build and waits until its announcement has
 * rebuilt the users' candidate sets. `opts.env` reaches the handlers (e.g. RANKING_VARIANTS).
 */
export async function startLastfmWorld(
  data: EvalData,
  log: (line: string) => void,
  opts: { infra?: Infrastructure; ts?: number; env?: Record<string, string> } = {},
): Promise<LastfmWorld> {
  const ts = opts.ts ?? TS;
  const infra = opts.infra ?? (await startInfrastructure({ log: (l) => log(`[infra] ${l}`), logDir: EVAL_LOG_DIR }));
  let stopPipeline: (() => Promise<void>) | undefined;
  let archiveDir: string | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopPipeline?.();
    if (archiveDir) rmSync(archiveDir, { recursive: true, force: true });
    if (!opts.infra) await infra.stop();
  };
  onShutdown(stop);
  try {
    const topology = await provisionTopology(infra, `eval${randomBytes(3).toString('hex')}-`);
    // The run's own event archive: the item model build (SQL on DuckDB) reads it, and only it.
    archiveDir = mkdtempSync(join(tmpdir(), 'tunestream-eval-'));
    const pipeline = await startLocalPipeline({
      env: { ...opts.env, ARCHIVE_DIR: archiveDir },
      topology,
      kafkaBrokers: infra.kafkaBrokers,
      dynamodbEndpoint: infra.dynamodbEndpoint,
      port: 0,
      authToken: 'eval',
      scheduleEverySeconds: 0,
      log: (l) => (l.includes('[http]') ? undefined : log(l)),
    });
    stopPipeline = pipeline.stop;
    const kafka = createKafka({ brokers: infra.kafkaBrokers, auth: 'none', clientId: 'tunestream-eval' });
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = kafkaSender(producer, topology.prefix);

    // Catalog first (profiles take artist genres from it), then the training interactions; the ids
    // are the Last.fm loader's (`artistUpserts`), genres and tags the held-out-free ones of `data`.
    const names = new Map(data.items.map((a) => [a, `Last.fm artist ${a}`] as const));
    const artists = artistUpserts(names, data.genres, TS, data.tags);
    for (let i = 0; i < artists.length; i += 500) await send('catalog', artists.slice(i, i + 500));
    // Mappings come in the topology's trigger order.
    const catalogMapping = pipeline.mappings[triggers.findIndex((t) => t.function === 'catalog-updater')]!;
    await waitUntilDrained([catalogMapping], { timeoutMs: DRAIN_TIMEOUT_MS, quietChecks: 2, log });
    const events: ListenEventV1[] = data.train.map((r) => ({
      eventId: `eval-${r.user}-${r.item}`,
      userId: lastfmUserId(r.user),
      artistId: lastfmArtistId(r.item),
      ts,
      type: 'play',
    }));
    const fed = performance.now();
    for (let i = 0; i < events.length; i += 1000) {
      await send('event', events.slice(i, i + 1000));
      if (i % 10_000 === 0) log(`fed ${i}/${events.length} events`);
    }
    await producer.disconnect();
    const feedSeconds = (performance.now() - fed) / 1000;
    const drained = performance.now();
    await waitUntilDrained(pipeline.mappings, { timeoutMs: DRAIN_TIMEOUT_MS, quietChecks: 2, log });
    const drainSeconds = (performance.now() - drained) / 1000;
    const built = performance.now();
    await pipeline.schedules.runNow('item-model-builder');
    // The build announces itself on profile-updates: wait until the neighbour updater rebuilt the
    // users' candidate sets with it, as a deployment is between builds.
    await waitUntilDrained(pipeline.mappings, { timeoutMs: DRAIN_TIMEOUT_MS, quietChecks: 2, log });
    const itemModelSeconds = (performance.now() - built) / 1000;
    return {
      pipeline,
      topology,
      dynamodbEndpoint: infra.dynamodbEndpoint,
      kafkaBrokers: infra.kafkaBrokers,
      events: events.length,
      seconds: { feed: feedSeconds, drain: drainSeconds, itemModel: itemModelSeconds },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One answer of GET /users/{id}/recommendations?kind=artist: its name, variant and artists (data-set ids). */
export interface RecommendationAnswer {
  recommendationId: string;
  variant: string;
  strategy: string;
  items: string[];
}

/**
 * Asks the read API for every user's artist recommendations (8 at a time, as a page of clients
 * would); a non-200 answer is counted as failed and has no entry.
 */
export async function askRecommendations(
  url: string,
  users: readonly string[],
  k: number,
  log?: (line: string) => void,
): Promise<{ answers: Map<string, RecommendationAnswer>; failed: number }> {
  const answers = new Map<string, RecommendationAnswer>();
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < users.length) {
        const u = users[next++]!;
        const target = `${url}/users/${lastfmUserId(u)}/recommendations?kind=artist&limit=${k}`;
        const res = await fetch(target, { headers: { authorization: 'Bearer eval' } }).catch((err: Error) => {
          throw new Error(`GET ${target}: ${err.message} (${String((err as { cause?: unknown }).cause ?? '')})`);
        });
        if (res.status !== 200) {
          failed++;
          await res.body?.cancel();
          continue;
        }
        const body = (await res.json()) as Omit<RecommendationAnswer, 'items'> & { items: { artistId: string }[] };
        answers.set(u, {
          recommendationId: body.recommendationId,
          variant: body.variant,
          strategy: body.strategy,
          items: body.items.map((i) => i.artistId.replace(/^lastfm-a/, '')),
        });
        if (log && (answers.size + failed) % 250 === 0) log(`asked ${answers.size + failed}/${users.length} users`);
      }
    }),
  );
  return { answers, failed };
}

export async function runPipelineEval(data: EvalData, log: (line: string) => void): Promise<OnlineResult> {
  const t0 = performance.now();
  const world = await startLastfmWorld(data, log);
  const { pipeline } = world;
  try {
    const tests = new Map<string, Set<string>>();
    for (const [u, items] of groupByUser(data.test)) tests.set(u, new Set(items.keys()));
    const queried = performance.now();
    const { answers, failed } = await askRecommendations(pipeline.url, [...tests.keys()], data.k);
    // A failed query scores as an empty list.
    const lists = new Map([...tests.keys()].map((u) => [u, answers.get(u)?.items ?? []] as const));
    const querySeconds = (performance.now() - queried) / 1000;
    const stores: Stores = createStores(
      { endpoint: world.dynamodbEndpoint, region: 'us-east-1' },
      world.topology.tableNames,
    );
    const itemSizes = await itemSizeReport(stores);
    stores.client.destroy();
    return {
      itemSizes,
      metrics: evaluateLists(lists, tests, data.k, data.items.length),
      seconds: {
        ...world.seconds,
        queries: querySeconds,
        total: (performance.now() - t0) / 1000,
      },
      events: world.events,
      failedQueries: failed,
    };
  } finally {
    await world.stop();
  }
}
