/**
 * Exactly-once in effect under crashes and redelivery. Produces a generated workload's served
 * lists to served-lists (and waits until the attributor has stored them all, so every listen is
 * attributed against the same lists as in the reference), then its listens to listen-events while
 * the pipeline runs in a child process; SIGKILLs the child at random points and restarts it,
 * rewinds the committed offsets of the profile-updater's and the attributor's groups (forced
 * redelivery), and at the end compares every stored profile with the batch reference (buildProfile
 * over the deduplicated events) and the attribution counters with theirs (the pure attribution
 * over the produced records, in production order).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type Kafka, Partitioners, type Producer } from 'kafkajs';
import { provisionTopology } from '../../local/infra/index.ts';
import { getCatalogItems, putCatalogItemIfNewer } from '../../shared/adapters/dynamodb/catalog.ts';
import { type ExperimentsStore, readCounters } from '../../shared/adapters/dynamodb/experiments.ts';
import { getProfiles } from '../../shared/adapters/dynamodb/profiles.ts';
import { createStores, RequestCounter, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { artistItemId, catalogItemsOf } from '../../shared/domain/catalog/catalog.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { DAY_MS } from '../../shared/domain/profile/profile.ts';
import { listenerVariant } from '../../shared/handlers/experiment.ts';
import { type FunctionName, settings, type TopicKey, triggers } from '../../shared/topology.ts';
import { readDeadLetters } from './topic-reader.ts';
import {
  compareCounters,
  compareProfiles,
  counterTotals,
  generateWorkload,
  referenceCounters,
  referenceProfiles,
  rng,
} from './workload.ts';

export interface ChaosOptions {
  kafkaBrokers: string[];
  dynamodbEndpoint: string;
  events: number;
  kills: number;
  redeliveries: number;
  users?: number;
  seed?: number;
  log?: (line: string) => void;
  /** Child stderr goes here (default .data/chaos-logs/<prefix>.log). */
  logFile?: string;
  /** Set by the CLI on Ctrl-C: stop at the next step, still cleaning up the child. */
  signal?: AbortSignal;
}

export interface ChaosResult {
  events: number;
  uniqueEvents: number;
  clientDuplicates: number;
  users: number;
  kills: number;
  /** Kills that landed while the profile-updater or the attributor still had unprocessed listens. */
  killsWithLag: number;
  redeliveries: number;
  /** Listens the profile-updater was made to read again. */
  redeliveredRecords: number;
  deadLettered: number;
  mismatches: number;
  lost: number;
  /** Events applied more than once (summed over users). */
  overCounted: number;
  examples: string[];
  attribution: AttributionResult;
  seconds: number;
}

export interface AttributionResult {
  /** served-lists records produced, duplicates (the same list twice) included. */
  servedRecords: number;
  servedDuplicates: number;
  /** Listen records naming a recommendationId. */
  naming: number;
  /** The reference's totals over all counter items (served, plays, recPlays, hits, explicit, hitLists, p1…). */
  reference: Record<string, number>;
  /** The same totals over the stored counters. */
  stored: Record<string, number>;
  /** Records the attributor was made to read again, per topic. */
  redelivered: { listens: number; served: number };
  /** Dead letters of the attributor (either topic). */
  deadLettered: number;
  /** Counter items in the reference. */
  counters: number;
  /** Counter fields (item × field) whose stored sum differs from the reference. */
  mismatches: number;
  examples: string[];
}

const CHILD = resolve(import.meta.dirname, 'pipeline-child.ts');

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const users = opts.users ?? Math.min(5000, Math.max(50, Math.floor(opts.events / 20)));
  const prefix = `chaos${randomBytes(3).toString('hex')}-`;
  log(
    `seed ${seed}, prefix ${prefix}: ${opts.events} events, ${users} users, ${opts.kills} kills, ${opts.redeliveries} redeliveries`,
  );
  const topology = await provisionTopology(opts, prefix, 'us-east-1');
  const stores: Stores = createStores({ endpoint: opts.dynamodbEndpoint, region: 'us-east-1' }, topology.tableNames);
  const work = generateWorkload({ events: opts.events, users, seed });
  // Catalog first, so every genre lookup (pipeline and reference alike) sees the same data.
  await seedCatalog(stores, work);

  const kafka = createKafka({ brokers: opts.kafkaBrokers, auth: 'none', clientId: 'chaos' });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const group = (fn: FunctionName, topic: TopicKey): Group => {
    const t = triggers.find((x) => x.function === fn && x.topic === topic)!;
    return { groupId: `${prefix}${t.consumerGroupId}`, topic: topology.topicNames[topic] };
  };
  const target: Target = {
    admin,
    profiles: group('profile-updater', 'listenEvents'),
    listens: group('recommendation-attributor', 'listenEvents'),
    served: group('recommendation-attributor', 'servedLists'),
  };
  mkdirSync(resolve('.data/chaos-logs'), { recursive: true });
  const childLog = createWriteStream(opts.logFile ?? resolve(`.data/chaos-logs/${prefix}log`), { flags: 'a' });
  const child = new PipelineChild(prefix, opts, childLog);

  let faults: FaultCounts;
  try {
    await child.start();
    await produceServedLists(work, producer, target, opts, log);
    faults = await produceWithFaults(work.events, producer, child, target, seed, opts, log);
    await producer.disconnect();
    log('all produced; waiting for the profile-updater and the attributor to catch up…');
    const deadline = Date.now() + 120_000 + opts.events * 20;
    for (const g of [target.profiles, target.listens, target.served])
      await waitForCatchUp(admin, g, deadline, opts.signal, log);
  } finally {
    await child.stop('SIGTERM');
    childLog.end();
    await producer.disconnect().catch(() => {});
  }

  log('comparing every profile with the batch reference…');
  const compared = await compareWithReference(stores, work);
  log('comparing the attribution counters with their reference…');
  const experimentsStore: ExperimentsStore = {
    client: stores.client,
    servedTable: topology.tableNames.servedLists,
    countersTable: topology.tableNames.experimentCounters,
    counter: new RequestCounter(),
  };
  const attribution = await compareAttribution(experimentsStore, work);
  // The event-archiver also consumes the topic and dead-letters the same bad records as its own.
  const deadLetters = await readDeadLetters(kafka, topology.topicNames.deadLetters);
  const deadLettered = deadLetters.filter(
    (l) => l.sourceTopic === target.profiles.topic && l.function === 'profile-updater',
  ).length;
  await admin.disconnect();
  stores.client.destroy();
  return {
    events: work.events.length,
    uniqueEvents: compared.uniqueEvents,
    clientDuplicates: work.duplicates,
    users: compared.users,
    kills: faults.kills,
    killsWithLag: faults.killsWithLag,
    redeliveries: faults.redeliveries,
    redeliveredRecords: faults.redeliveredRecords,
    deadLettered,
    mismatches: compared.mismatches,
    lost: compared.lost,
    overCounted: compared.overCounted,
    examples: compared.examples,
    attribution: {
      servedRecords: work.servedLists.length,
      servedDuplicates: work.servedDuplicates,
      naming: work.naming,
      reference: attribution.reference,
      stored: attribution.stored,
      redelivered: faults.attributionRedelivered,
      deadLettered: deadLetters.filter((l) => l.function === 'recommendation-attributor').length,
      counters: attribution.counters,
      mismatches: attribution.mismatches,
      examples: attribution.examples,
    },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

type Workload = ReturnType<typeof generateWorkload>;

/** A consumer group on a (physical) topic. */
interface Group {
  groupId: string;
  topic: string;
}

/** The groups whose offsets the faults move: the profile-updater's and the attributor's two. */
interface Target {
  admin: Admin;
  profiles: Group;
  listens: Group;
  served: Group;
}

type FaultCounts = Pick<ChaosResult, 'kills' | 'killsWithLag' | 'redeliveries' | 'redeliveredRecords'> & {
  attributionRedelivered: AttributionResult['redelivered'];
};

async function seedCatalog(stores: Stores, work: Workload): Promise<void> {
  for (const a of work.artists) {
    // The catalog-updater's own mapping, so the items are exactly what the pipeline would store.
    for (const item of catalogItemsOf({
      artistId: a.artistId,
      name: a.name,
      genres: a.genres,
      popularity: 50,
      updatedAt: 1,
    }))
      await putCatalogItemIfNewer(stores, item);
  }
}

/** The pipeline in a child process (pipeline-child.ts), started and killed at will. */
class PipelineChild {
  private child: ChildProcess | undefined;

  constructor(
    private readonly prefix: string,
    private readonly opts: Pick<ChaosOptions, 'kafkaBrokers' | 'dynamodbEndpoint'>,
    private readonly childLog: NodeJS.WritableStream,
  ) {}

  /** Spawns the child and waits until it says READY. */
  async start(): Promise<void> {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        CHAOS_PREFIX: this.prefix,
        KAFKA_BROKERS: this.opts.kafkaBrokers.join(','),
        DYNAMODB_ENDPOINT: this.opts.dynamodbEndpoint,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stderr!.pipe(this.childLog, { end: false });
    await new Promise<void>((ok, fail) => {
      c.once('exit', (code) => fail(new Error(`pipeline child exited (${code}) before it was ready`)));
      c.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && ok());
    });
    c.removeAllListeners('exit');
    this.child = c;
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }
}

/**
 * Produces the workload in segments; after some segments (chosen by the seed, each at most once)
 * SIGKILLs and restarts the child, or stops it and rewinds the group's offsets (redelivery).
 */
async function produceWithFaults(
  events: readonly ListenEventV1[],
  producer: Producer,
  child: PipelineChild,
  target: Target,
  seed: number,
  opts: ChaosOptions,
  log: (line: string) => void,
): Promise<FaultCounts> {
  const { admin, profiles, listens, served } = target;
  const rand = rng(seed ^ 0x5eed);
  const segments = Math.max(10, (opts.kills + opts.redeliveries) * 2 + 2);
  // Faults go after segments 1..segments-1, each at most once.
  const slots = Array.from({ length: segments - 1 }, (_, i) => i + 1).sort(() => rand() - 0.5);
  const killAt = new Set(slots.slice(0, opts.kills));
  const rewindAt = new Set(slots.slice(opts.kills, opts.kills + opts.redeliveries));
  const result: FaultCounts = {
    kills: 0,
    killsWithLag: 0,
    redeliveries: 0,
    redeliveredRecords: 0,
    attributionRedelivered: { listens: 0, served: 0 },
  };
  const per = Math.ceil(events.length / segments);
  for (let s = 0; s < segments; s++) {
    opts.signal?.throwIfAborted();
    const chunk = events.slice(s * per, (s + 1) * per);
    for (let i = 0; i < chunk.length; i += 500) {
      await producer.send({
        topic: profiles.topic,
        acks: -1,
        messages: chunk.slice(i, i + 500).map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      });
    }
    log(`produced ${Math.min((s + 1) * per, events.length)}/${events.length}`);
    if (killAt.has(s)) {
      await sleep(rand() * 400); // somewhere in the middle of fetching, applying or committing
      if ((await totalLag(admin, profiles)) + (await totalLag(admin, listens)) > 0) result.killsWithLag++;
      await child.stop('SIGKILL');
      result.kills++;
      log(`kill ${result.kills}/${opts.kills}: SIGKILLed the pipeline; restarting`);
      await child.start();
    }
    if (rewindAt.has(s)) {
      await sleep(rand() * 400);
      await child.stop('SIGTERM'); // the group must be empty to move its offsets
      result.redeliveredRecords += await rewind(admin, profiles, rand);
      result.attributionRedelivered.listens += await rewind(admin, listens, rand);
      result.attributionRedelivered.served += await rewind(admin, served, rand);
      result.redeliveries++;
      const { listens: l, served: s } = result.attributionRedelivered;
      log(
        `redelivery ${result.redeliveries}/${opts.redeliveries}: rewound the profile-updater (${result.redeliveredRecords} records so far) and the attributor (${l} listens, ${s} served lists)`,
      );
      await child.start();
    }
  }
  return result;
}

/**
 * Served lists first, and all stored before any listen is produced: the attributor reads each topic
 * on its own, and a listen attributed before its list was stored would differ from the reference.
 */
async function produceServedLists(
  work: Workload,
  producer: Producer,
  target: Target,
  opts: ChaosOptions,
  log: (line: string) => void,
): Promise<void> {
  const lists = work.servedLists;
  for (let i = 0; i < lists.length; i += 500) {
    await producer.send({
      topic: target.served.topic,
      acks: -1,
      messages: lists.slice(i, i + 500).map((l) => ({ key: l.userId, value: JSON.stringify(l) })),
    });
  }
  log(`produced ${lists.length} served lists; waiting for the attributor to store them…`);
  await waitForCatchUp(target.admin, target.served, Date.now() + 120_000 + lists.length * 20, opts.signal, log);
}

async function waitForCatchUp(
  admin: Admin,
  group: Group,
  deadline: number,
  signal: AbortSignal | undefined,
  log: (line: string) => void,
): Promise<void> {
  let lastReport = Date.now();
  for (let lag = -1; lag !== 0; ) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`${group.groupId} still ${lag} records behind`);
    await sleep(500);
    lag = await totalLag(admin, group);
    if (Date.now() - lastReport > 10_000) {
      log(`${group.groupId} lag: ${lag} records`);
      lastReport = Date.now();
    }
  }
}

/** Every stored profile against the batch reference (buildProfile over the deduplicated events). */
async function compareWithReference(stores: Stores, work: Workload) {
  const catalog = await getCatalogItems(
    stores,
    work.artists.map((a) => artistItemId(a.artistId)),
  );
  const reference = referenceProfiles(work.events, {
    halfLifeMs: settings.PROFILE_HALF_LIFE_DAYS * DAY_MS,
    topArtistsCapacity: settings.PROFILE_TOP_ARTISTS,
    topTracksCapacity: settings.PROFILE_TOP_TRACKS,
    recentCapacity: settings.PROFILE_RECENT_LISTENS,
    // What the profile-updater's catalog cache answers: no track items, so the artist's genres.
    genresOf: (e: ListenEventV1) => (e.artistId ? catalog.get(artistItemId(e.artistId))?.genres : undefined),
  });
  const stored = await getProfiles(stores, [...reference.keys()]);
  const out = {
    users: reference.size,
    uniqueEvents: 0,
    mismatches: 0,
    lost: 0,
    overCounted: 0,
    examples: [] as string[],
  };
  for (const [userId, want] of reference) {
    out.uniqueEvents += want.counts.events;
    const got = stored.get(userId);
    const diff = compareProfiles(got, want);
    const delta = (got?.counts.events ?? 0) - want.counts.events;
    if (delta < 0) out.lost -= delta;
    else out.overCounted += delta;
    if (diff.length > 0) {
      out.mismatches++;
      if (out.examples.length < 5) out.examples.push(`${userId}: ${diff.slice(0, 3).join('; ')}`);
    }
  }
  return out;
}

/** The attribution counters of every hour the workload touches, against the reference. */
async function compareAttribution(s: ExperimentsStore, work: Workload) {
  const reference = referenceCounters(work, {
    windowMs: settings.ATTRIBUTION_WINDOW_HOURS * HOUR_MS,
    maxPositions: settings.ATTRIBUTION_POSITIONS,
    // The attributor's own lookup (the child inherits this environment, RANKING_VARIANTS included).
    variantOf: (userId) => listenerVariant(userId).name,
  });
  const times = [...work.events.map((e) => e.ts), ...work.servedLists.map((l) => l.ts)];
  const hours = times.reduce((a, t) => [Math.min(a[0]!, t), Math.max(a[1]!, t)], [Infinity, -Infinity]);
  const rows = await readCounters(s, Math.floor(hours[0]! / HOUR_MS), Math.floor(hours[1]! / HOUR_MS));
  return { reference: counterTotals(reference), ...compareCounters(rows, reference) };
}

async function committedAndHigh(admin: Admin, { groupId, topic }: Group) {
  const [high, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  return high.map((h) => {
    const c = Number(committed?.partitions.find((p) => p.partition === h.partition)?.offset ?? -1);
    return { partition: h.partition, high: Number(h.high), committed: c < 0 ? 0 : c };
  });
}

async function totalLag(admin: Admin, group: Group): Promise<number> {
  return (await committedAndHigh(admin, group)).reduce((a, p) => a + p.high - p.committed, 0);
}

/** Moves every partition's committed offset back to a random earlier position; returns how far in total. */
async function rewind(admin: Admin, group: Group, rand: () => number): Promise<number> {
  const parts = await committedAndHigh(admin, group);
  const partitions = parts.map((p) => ({ partition: p.partition, offset: String(Math.floor(p.committed * rand())) }));
  await admin.setOffsets({ groupId: group.groupId, topic: group.topic, partitions });
  return parts.reduce((a, p, i) => a + p.committed - Number(partitions[i]!.offset), 0);
}

export type { Kafka };
