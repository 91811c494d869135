/**
 * attribution (issue #23): what recording and attributing answers costs, on the local pipeline
 * with the topology's real batching windows. A synthetic world's listeners get history, then
 * page views — each asks for recommendations and radio at once, as the dashboard's listener page
 * does — interleaved across listeners; then each listener plays a few tracks, some from what they
 * were shown. Read from the runtime: the served-list lines' bytes (what CloudWatch Logs bills),
 * the recorder's deliveries, and the attributor's DynamoDB units per answer and per play (its
 * own counter). The cost per million answers is priced in BENCHMARKS.md's cost model.
 */
import { startLocalPipeline, waitUntilDrained } from '../local/pipeline.ts';
import { experimentsStoreFromEnv, readCounters } from '../shared/adapters/dynamodb/experiments.ts';
import { HOUR_MS } from '../shared/domain/experiments/attribution.ts';
import { cleanups, freshEnv, loadCatalog, log, syntheticWorld } from './env.ts';
import { rng } from './lib.ts';

const TOKEN = 'bench';

/** Provisioned capacity at the topology's 70 % target, us-east-1 (bench/cost-model.ts). */
const PROVISIONED_USD_PER_MILLION_WCU = (0.00065 * 1e6) / (3600 * 0.7);
const PROVISIONED_USD_PER_MILLION_RCU = (0.00013 * 1e6) / (3600 * 0.7);
const LOGS_USD_PER_GB = 0.5;
const LOGS_EVENT_OVERHEAD_BYTES = 26;
const LAMBDA_USD_PER_GB_SECOND = 0.0000133334;
const LAMBDA_USD_PER_MILLION_REQUESTS = 0.2;
/** CloudWatch Logs batches a busy log stream's lines; 10 per delivery is a floor at a few answers a second. */
const LINES_PER_DELIVERY = 10;

/** A pipeline on a fresh prefix with a synthetic world's catalog, and a JSON client of its API. */
async function benchPipeline(quick: boolean) {
  const env = await freshEnv('attribution');
  const world = syntheticWorld({ users: quick ? 60 : 300, artists: 200, tracksPerArtist: 5, seed: 23 });
  await loadCatalog(env.stores, world);
  const pipeline = await startLocalPipeline({
    topology: env.topology,
    kafkaBrokers: env.infra.kafkaBrokers,
    dynamodbEndpoint: env.infra.dynamodbEndpoint,
    port: 0,
    authToken: TOKEN,
    scheduleEverySeconds: 0,
    httpWorkers: 0,
  });
  cleanups.push(() => pipeline.stop());
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${pipeline.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  return { world, pipeline, call };
}

export async function attributionBench(quick: boolean): Promise<Record<string, unknown>> {
  const { world, pipeline, call } = await benchPipeline(quick);
  const history = Date.now() - 2 * HOUR_MS;
  const events = world.users.flatMap((u) => Array.from({ length: 20 }, (_, i) => world.event(history + i * 1000, u)));
  for (let i = 0; i < events.length; i += 500) await call('POST', '/events', { events: events.slice(i, i + 500) });
  await waitUntilDrained(pipeline.mappings, { timeoutMs: 300_000, quietChecks: 2, log });
  log(`attribution: ${world.users.length} listeners with history; page views…`);

  const store = experimentsStoreFromEnv();
  const delivery = pipeline.subscriptions[0]!;
  store.counter.reset();
  const bytes0 = delivery.bytes;
  const shown = new Map<string, string[]>();
  const pageViews = 3;
  for (let round = 0; round < pageViews; round++) {
    // A listener's page views are minutes apart: never in one served-lists batch (5 s window).
    if (round > 0) await new Promise((r) => setTimeout(r, 6000));
    for (const u of world.users) {
      const [rec, radio] = await Promise.all([
        call('GET', `/users/${u}/recommendations?limit=20`),
        call('GET', `/users/${u}/radio?limit=20`),
      ]);
      const ids = [...(rec.items as { trackId: string }[]), ...(radio.items as { trackId: string }[])].map(
        (i) => i.trackId,
      );
      shown.set(u, ids);
    }
  }
  const answers = world.users.length * pageViews * 2;
  await delivery.drain();
  await waitUntilDrained(pipeline.mappings, { timeoutMs: 300_000, quietChecks: 2, log });
  const hour = Math.floor(Date.now() / HOUR_MS);
  const served = (await readCounters(store, hour - 1, hour + 1)).reduce((a, r) => a + (r.fields.served ?? 0), 0);
  const servedSide = { ...store.counter };
  const lineBytes = (delivery.bytes - bytes0) / answers;
  log(`attribution: ${answers} answers, ${served} counted served; plays…`);

  store.counter.reset();
  const random = rng(7);
  const plays: Record<string, unknown>[] = [];
  for (const u of world.users) {
    const list = shown.get(u) ?? [];
    for (let k = 0; k < 5; k++) {
      const fromList = k < 2 && list.length > 0;
      const e = world.event(Date.now(), u);
      plays.push({ ...e, type: 'play', ...(fromList ? { trackId: list[Math.floor(random() * list.length)] } : {}) });
    }
  }
  for (let i = 0; i < plays.length; i += 500) await call('POST', '/events', { events: plays.slice(i, i + 500) });
  await waitUntilDrained(pipeline.mappings, { timeoutMs: 300_000, quietChecks: 2, log });
  const listenSide = { ...store.counter };
  const rows = await readCounters(store, hour - 1, hour + 1);
  const sum = (f: string) => rows.reduce((a, r) => a + (r.fields[f] ?? 0), 0);

  const perAnswer = {
    lineBytes,
    writeUnits: servedSide.writeUnits / answers,
    readUnits: servedSide.readUnits / answers,
    writeRequests: servedSide.writes / answers,
  };
  const perPlay = { writeUnits: listenSide.writeUnits / plays.length, readUnits: listenSide.readUnits / plays.length };
  // The recorder: one invocation per delivery of LINES_PER_DELIVERY lines, billed its measured
  // duration per line at 256 MB.
  const recorderMsPerLine = delivery.invokeMs / Math.max(1, delivery.delivered);
  const recorderUsd =
    (1e6 / LINES_PER_DELIVERY) * (LAMBDA_USD_PER_MILLION_REQUESTS / 1e6) +
    1e6 * 0.25 * (recorderMsPerLine / 1000) * LAMBDA_USD_PER_GB_SECOND;
  // A list that gets a hit is marked once (a write unit): counted per answer, at the hit rate seen here.
  const hitMarksPerAnswer = sum('hitLists') / answers;
  const logsUsd = (((lineBytes + LOGS_EVENT_OVERHEAD_BYTES) * 1e6) / 1024 ** 3) * LOGS_USD_PER_GB;
  const storeUsd =
    (perAnswer.writeUnits + hitMarksPerAnswer) * PROVISIONED_USD_PER_MILLION_WCU +
    perAnswer.readUnits * PROVISIONED_USD_PER_MILLION_RCU;
  // What plays add beyond the hit marks: their listener's lists read, the counters per batch.
  const playUsd =
    Math.max(0, perPlay.writeUnits - (hitMarksPerAnswer * answers) / plays.length) * PROVISIONED_USD_PER_MILLION_WCU +
    perPlay.readUnits * PROVISIONED_USD_PER_MILLION_RCU;
  await pipeline.stop();
  cleanups.pop();
  return {
    listeners: world.users.length,
    answers,
    servedCounted: served,
    plays: plays.length,
    hits: sum('hits'),
    hitLists: sum('hitLists'),
    perAnswer,
    perPlay,
    hitMarksPerAnswer,
    recorderDeliveries: delivery.deliveries,
    recorderMsPerLine,
    usdPerMillionAnswers: {
      logs: logsUsd,
      recorder: recorderUsd,
      servedListStore: storeUsd,
      total: logsUsd + recorderUsd + storeUsd,
    },
    usdPerMillionPlays: playUsd,
  };
}
