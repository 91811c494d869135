/**
 * Proof that the attribution measures what it claims (`npm run eval -- … --online`): the Last.fm
 * world trained through the pipeline with two ranking variants (the product's ranking and a
 * deliberately worse popularity-only one, 50/50 by bucket), every test listener's artist
 * recommendations served by the read API, each answer's served list recorded through the log
 * subscription, the recorder and served-lists, then the listeners' held-out artists replayed as
 * later plays — first without a recommendationId (implicit attribution), then again naming the
 * answer for the artists it listed (explicit). After each replay the attributor's counters must
 * equal, count for count, what the kept answers say they must be (attribution-check.ts).
 */
import { Partitioners } from 'kafkajs';
import { waitUntilDrained } from '../../local/pipeline.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { type ExperimentsStore, readCounters } from '../../shared/adapters/dynamodb/experiments.ts';
import { RequestCounter } from '../../shared/adapters/dynamodb/stores.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { apart, type RateInterval } from '../../shared/domain/experiments/confidence.ts';
import { type Experiment, type Variant, variantOf } from '../../shared/domain/experiments/variants.ts';
import { experiments, settings, triggers } from '../../shared/topology.ts';
import { kafkaSender } from '../replay.ts';
import {
  countMismatches,
  expectedCounts,
  hitRate,
  type ListOutcome,
  listenersNeeded,
  liveCounts,
  outcomesOf,
  powerListeners,
  type ServedAnswer,
  type SubsampleResult,
  type VariantCounts,
} from './attribution-check.ts';
import { type EvalData, groupByUser } from './evaluate.ts';
import { askRecommendations, type LastfmWorld, lastfmArtistId, lastfmUserId, startLastfmWorld } from './online.ts';
import { evaluateLists, type Metrics } from './protocol.ts';

/** The two variants compared: the product's ranking and popularity only (genre part 1, all popularity, no session). */
export const REPLAY_VARIANTS: readonly Variant[] = [
  { name: 'control', from: 0, to: 500 },
  { name: 'popular', from: 500, to: 1000, ranking: { genreBlend: 1, popularityPrior: 1 }, session: false },
];
export const REPLAY_EXPERIMENT: Experiment = {
  salt: experiments.salt,
  buckets: experiments.buckets,
  variants: REPLAY_VARIANTS,
};
/** The variant the listener `user` of the data set gets (their product id is `lastfmUserId`). */
export const replayVariantOf = (user: string): string => variantOf(lastfmUserId(user), REPLAY_EXPERIMENT).name;

const WAIT_MS = 600_000;
/** Subsampling: listeners added per step, seeded draws per step, and the shares of draws reported. */
const SUBSAMPLE = { step: 10, draws: 200, seed: 42, levels: [0.5, 0.8, 0.95] } as const;

export interface ReplayPhase {
  name: 'implicit' | 'explicit';
  /** Plays produced in this phase (every held-out pair once). */
  plays: number;
  /** Of those, plays naming their answer (explicit phase: the listed ones). */
  named: number;
  seconds: number;
  /** Cumulative after this phase: what the answers say, what the attributor reports. */
  expected: VariantCounts;
  live: VariantCounts;
  mismatches: string[];
}

export interface VariantReport {
  listeners: number;
  served: number;
  hitLists: number;
  hits: number;
  explicit: number;
  /** Hits by position (p1…), the implicit phase. */
  positions: Record<string, number>;
  hitRate: RateInterval;
  /** P/R/nDCG@k of the served lists against the held-out artists. */
  metrics: Metrics;
}

export interface AttributionReplayResult {
  variants: readonly Variant[];
  answers: number;
  failedQueries: number;
  /** Answers whose variant is not the one the experiment gives the listener. */
  variantDisagreements: string[];
  phases: ReplayPhase[];
  /** Every mismatch of every phase (empty: the measure is exact). */
  mismatches: string[];
  perVariant: Record<string, VariantReport>;
  apart: boolean;
  needed: {
    subsample: { step: number; draws: number; seed: number; needed: Record<string, number | undefined> };
    curve: SubsampleResult[];
    power: { '0.5': number | undefined; '0.8': number | undefined };
  };
  outcomes: ListOutcome[];
  /** The kept answers by data-set user (the offline context ranks the same listeners). */
  answerVariants: Map<string, string>;
  seconds: { world: number; serve: number; record: number; implicit: number; explicit: number; total: number };
}

const sumField = (c: VariantCounts, series: 'lists' | 'plays', f: string) =>
  Object.values(c).reduce((a, v) => a + (v[series][f] ?? 0), 0);

/** The attributor's two event source mappings (served-lists, listen-events). */
function attributorMappings(world: LastfmWorld) {
  const at = (topic: string) =>
    world.pipeline.mappings[
      triggers.findIndex((t) => t.function === 'recommendation-attributor' && t.topic === topic)
    ]!;
  return { served: at('servedLists'), plays: at('listenEvents') };
}

/** Polls the counters until `field` of `series` sums to at least `n` (then the caller compares exactly). */
async function countersReach(
  store: ExperimentsStore,
  hours: () => [number, number],
  series: 'lists' | 'plays',
  field: string,
  n: number,
  log: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let lastNote = 0;
  for (;;) {
    const got = sumField(liveCounts(await readCounters(store, ...hours())).counts, series, field);
    if (got >= n) return;
    if (Date.now() > deadline) throw new Error(`attribution: ${field} reached ${got} of ${n} within ${WAIT_MS} ms`);
    if (Date.now() - lastNote > 5000) {
      lastNote = Date.now();
      log(`attribution: ${field} ${got}/${n}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every held-out pair as one play at now; `named`: the answer of listed artists is named (explicit). */
async function replayPlays(
  world: LastfmWorld,
  tests: ReadonlyMap<string, ReadonlySet<string>>,
  answers: ReadonlyMap<string, ServedAnswer>,
  phase: ReplayPhase['name'],
): Promise<{ plays: number; named: number }> {
  const kafka = createKafka({ brokers: world.kafkaBrokers, auth: 'none', clientId: 'tunestream-eval-attribution' });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const send = kafkaSender(producer, world.topology.prefix);
  const events: ListenEventV1[] = [];
  for (const [user, items] of tests)
    for (const item of items) {
      const a = answers.get(user);
      const named = phase === 'explicit' && a !== undefined && a.items.includes(item);
      events.push({
        // Unique per (listener, artist, phase): the second replay is new plays, not a redelivery.
        eventId: `eval-${phase === 'implicit' ? 't' : 'x'}-${user}-${item}`,
        userId: lastfmUserId(user),
        artistId: lastfmArtistId(item),
        ts: Date.now(),
        type: 'play',
        ...(named ? { recommendationId: a.recommendationId } : {}),
      });
    }
  try {
    for (let i = 0; i < events.length; i += 1000) await send('event', events.slice(i, i + 1000));
  } finally {
    await producer.disconnect();
  }
  return { plays: events.length, named: events.filter((e) => e.recommendationId !== undefined).length };
}

/** Serves every test listener, waits until each answer is a stored, counted served list. */
async function serveAndRecord(
  world: LastfmWorld,
  store: ExperimentsStore,
  users: readonly string[],
  k: number,
  hours: () => [number, number],
  log: (line: string) => void,
) {
  const t0 = performance.now();
  const asked = await askRecommendations(world.pipeline.url, users, k, (l) => log(`attribution: ${l}`));
  const answers = new Map<string, ServedAnswer>([...asked.answers].map(([user, a]) => [user, { user, ...a }] as const));
  const serve = (performance.now() - t0) / 1000;
  log(`attribution: ${answers.size} answers (${asked.failed} failed) in ${serve.toFixed(1)} s; recording…`);
  const t1 = performance.now();
  // The read API's served-list lines: delivered to the recorder, produced, stored and counted.
  await Promise.all(world.pipeline.subscriptions.map((d) => d.drain()));
  const lost = world.pipeline.subscriptions.reduce((a, d) => a + d.failed, 0);
  if (lost > 0) log(`attribution: WARNING ${lost} served-list lines failed delivery`);
  await waitUntilDrained([attributorMappings(world).served], { timeoutMs: WAIT_MS, quietChecks: 2, log });
  await countersReach(store, hours, 'lists', 'served', answers.size, log);
  return { answers, failed: asked.failed, seconds: { serve, record: (performance.now() - t1) / 1000 } };
}

/** One replay: the plays, the attributor drained, its counters against the answers' counts. */
async function runPhase(
  world: LastfmWorld,
  store: ExperimentsStore,
  ctx: {
    tests: ReadonlyMap<string, ReadonlySet<string>>;
    answers: ReadonlyMap<string, ServedAnswer>;
    hours: () => [number, number];
    rounds: { explicit: boolean }[];
  },
  phase: ReplayPhase['name'],
  log: (line: string) => void,
): Promise<ReplayPhase> {
  const t0 = performance.now();
  const { plays, named } = await replayPlays(world, ctx.tests, ctx.answers, phase);
  ctx.rounds.push({ explicit: phase === 'explicit' });
  log(`attribution: ${phase} replay: ${plays} plays produced (${named} naming their answer); attributing…`);
  const expected = expectedCounts(
    [...ctx.answers.values()],
    ctx.tests,
    replayVariantOf,
    settings.ATTRIBUTION_POSITIONS,
    ctx.rounds,
  );
  await waitUntilDrained([attributorMappings(world).plays], { timeoutMs: WAIT_MS, quietChecks: 2, log });
  await countersReach(store, ctx.hours, 'plays', 'plays', sumField(expected, 'plays', 'plays'), log);
  const { counts: live, otherRoutes } = liveCounts(await readCounters(store, ...ctx.hours()));
  const mismatches = [
    ...countMismatches(live, expected),
    ...otherRoutes.map((r) => `counters of route ${r}: the replay served recommendations only`),
  ].map((m) => `${phase}: ${m}`);
  const seconds = (performance.now() - t0) / 1000;
  log(`attribution: ${phase} replay checked in ${seconds.toFixed(1)} s: ${mismatches.length} mismatches`);
  return { name: phase, plays, named, seconds, expected, live, mismatches };
}

function variantReports(
  data: EvalData,
  answers: ReadonlyMap<string, ServedAnswer>,
  tests: ReadonlyMap<string, ReadonlySet<string>>,
  implicit: ReplayPhase,
  final: ReplayPhase,
): Record<string, VariantReport> {
  const out: Record<string, VariantReport> = {};
  for (const v of REPLAY_VARIANTS) {
    const mine = [...answers.values()].filter((a) => a.variant === v.name);
    const lists = implicit.live[v.name]?.lists ?? {};
    const positions = Object.fromEntries(
      Object.entries(lists)
        .filter(([f]) => /^p(\d+|More)$/.test(f))
        .sort(([a], [b]) => (a === 'pMore' ? 1 : b === 'pMore' ? -1 : Number(a.slice(1)) - Number(b.slice(1)))),
    );
    out[v.name] = {
      listeners: [...tests.keys()].filter((u) => replayVariantOf(u) === v.name).length,
      served: lists.served ?? 0,
      hitLists: lists.hitLists ?? 0,
      hits: lists.hits ?? 0,
      explicit: final.live[v.name]?.lists.explicit ?? 0,
      positions,
      hitRate: hitRate(lists),
      metrics: evaluateLists(
        new Map(mine.map((a) => [a.user, a.items] as const)),
        new Map(mine.map((a) => [a.user, tests.get(a.user) ?? new Set<string>()] as const)),
        data.k,
        data.items.length,
      ),
    };
  }
  return out;
}

/** Variants named in the answers that are not the experiment's choice for that listener (must be none). */
const disagreements = (answers: ReadonlyMap<string, ServedAnswer>) =>
  [...answers.values()]
    .filter((a) => a.variant !== replayVariantOf(a.user))
    .map((a) => `${a.user}: answered ${a.variant}, the experiment gives ${replayVariantOf(a.user)}`);

export async function runAttributionReplay(
  data: EvalData,
  log: (line: string) => void,
): Promise<AttributionReplayResult> {
  const t0 = performance.now();
  const firstHour = Math.floor(Date.now() / HOUR_MS) - 1;
  const hours = (): [number, number] => [firstHour, Math.floor(Date.now() / HOUR_MS) + 1];
  const world = await startLastfmWorld(data, log, { env: { RANKING_VARIANTS: JSON.stringify(REPLAY_VARIANTS) } });
  const worldSeconds = (performance.now() - t0) / 1000;
  const store: ExperimentsStore = {
    client: createDocumentClient({ endpoint: world.dynamodbEndpoint, region: 'us-east-1' }),
    servedTable: world.topology.tableNames.servedLists,
    countersTable: world.topology.tableNames.experimentCounters,
    counter: new RequestCounter(),
  };
  try {
    const tests = new Map([...groupByUser(data.test)].map(([u, items]) => [u, new Set(items.keys())] as const));
    const served = await serveAndRecord(world, store, [...tests.keys()], data.k, hours, log);
    const ctx = { tests, answers: served.answers, hours, rounds: [] as { explicit: boolean }[] };
    const implicit = await runPhase(world, store, ctx, 'implicit', log);
    const explicit = await runPhase(world, store, ctx, 'explicit', log);
    const outcomes = outcomesOf([...served.answers.values()], tests);
    const perVariant = variantReports(data, served.answers, tests, implicit, explicit);
    const [a, b] = REPLAY_VARIANTS.map((v) => v.name) as [string, string];
    const subsample = listenersNeeded(outcomes, a, b, { ...SUBSAMPLE, levels: [...SUBSAMPLE.levels] });
    return {
      variants: REPLAY_VARIANTS,
      answers: served.answers.size,
      failedQueries: served.failed,
      variantDisagreements: disagreements(served.answers),
      phases: [implicit, explicit],
      mismatches: [...implicit.mismatches, ...explicit.mismatches],
      perVariant,
      apart: apart(perVariant[a]!.hitRate, perVariant[b]!.hitRate),
      needed: {
        subsample: { step: SUBSAMPLE.step, draws: SUBSAMPLE.draws, seed: SUBSAMPLE.seed, needed: subsample.needed },
        curve: subsample.curve,
        power: {
          '0.5': powerListeners(perVariant[a]!.hitRate.rate, perVariant[b]!.hitRate.rate, '0.5'),
          '0.8': powerListeners(perVariant[a]!.hitRate.rate, perVariant[b]!.hitRate.rate, '0.8'),
        },
      },
      outcomes,
      answerVariants: new Map([...served.answers].map(([u, x]) => [u, x.variant] as const)),
      seconds: {
        world: worldSeconds,
        ...served.seconds,
        implicit: implicit.seconds,
        explicit: explicit.seconds,
        total: (performance.now() - t0) / 1000,
      },
    };
  } finally {
    store.client.destroy();
    await world.stop();
  }
}
