/**
 * One populated local pipeline (startLocalPipeline, the topology's real batching windows) for:
 * - freshness: at a steady background rate, probe events for new users; POST /events 202 →
 *   profile item visible, and → neighbour list written, polled directly in DynamoDB Local;
 * - api: autocannon (child process) at a fixed rate on GET /users/{id}/recommendations, after a
 *   warm-up at the same rate (reported apart), with the DynamoDB read requests per recommendation
 *   counted in-process;
 * - dynamodb: items / read units / requests per neighbour refresh, calling updateNeighbors on
 *   profile updates of populated users (as one trigger batch, and one user per batch).
 */

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalBuildSummary as BuildSummary } from '../local/batch/item-model-job.ts';
import { type LocalPipeline, startLocalPipeline, waitUntilDrained } from '../local/pipeline.ts';
import { buildMskEvent, localClusterArn, type MskRecord } from '../local/runtime/msk-event.ts';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.ts';
import { getProfiles } from '../shared/adapters/dynamodb/profiles.ts';
import { profileUpdateOf } from '../shared/domain/profile/profile.ts';
import { type BenchEnv, cleanups, freshEnv, loadCatalog, log, syntheticWorld, type World } from './env.ts';
import { median, percentile, writeShares } from './lib.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * BENCH_API_CPU_PROFILE=<dir>: a V8 CPU profile of this (the serving) process during each api run,
 * written as <dir>/api-<run>.cpuprofile (open in Chrome DevTools), to see where a request's time goes.
 */
async function startCpuProfile(): Promise<((label: string) => Promise<void>) | undefined> {
  const dir = process.env.BENCH_API_CPU_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async (label) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/api-${label}.cpuprofile`, JSON.stringify(profile));
    log(`api: CPU profile of the serving process in ${dir}/api-${label}.cpuprofile`);
  };
}

/** The populated pipeline the three benchmarks share. */
interface Bench {
  env: BenchEnv;
  world: World;
  pipeline: LocalPipeline;
  /** A separate client for polling, so the counted requests are the handlers' only. */
  poll: ReturnType<typeof createDocumentClient>;
  post(events: unknown[]): Promise<void>;
  idle(timeoutMs: number): Promise<void>;
}

export async function pipelineBench(quick: boolean, want: { freshness: boolean; api: boolean; dynamodb: boolean }) {
  const env = await freshEnv('pipe');
  const world = syntheticWorld({
    users: quick ? 500 : 2000,
    artists: quick ? 500 : 1500,
    tracksPerArtist: 5,
    seed: 4,
  });
  await loadCatalog(env.stores, world);
  const pipeline = await startLocalPipeline({
    topology: env.topology,
    kafkaBrokers: env.infra.kafkaBrokers,
    dynamodbEndpoint: env.infra.dynamodbEndpoint,
    port: 0,
    // The item model build would land in the measured windows; it has its own benchmark figures.
    scheduleEverySeconds: 0,
  });
  const stop = () => pipeline.stop();
  cleanups.push(stop);
  const bench: Bench = {
    env,
    world,
    pipeline,
    poll: createDocumentClient({ endpoint: env.infra.dynamodbEndpoint, region: 'us-east-1' }),
    post: (events) => postEvents(pipeline.url, events),
    idle: (timeoutMs) => waitUntilDrained(pipeline.mappings, { timeoutMs, log }),
  };
  const out: Record<string, unknown> = {};
  try {
    await seed(bench, quick);
    if (want.freshness) out.freshness = await freshness(bench, quick);
    if (want.api) out.api = await api(bench, quick);
    if (want.dynamodb) out.dynamodb = await refreshCost(bench);
  } finally {
    bench.poll.destroy();
    cleanups.splice(cleanups.indexOf(stop), 1);
    await pipeline.stop();
  }
  return out;
}

async function postEvents(url: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`POST /events: ${res.status}`);
}

/** Every user gets a history, so profiles, the index and neighbour lists exist. */
async function seed({ world, post, idle }: Bench, quick: boolean): Promise<void> {
  const seedEvents = world.users.length * (quick ? 3 : 4);
  log(`pipeline: seeding ${seedEvents} events for ${world.users.length} users…`);
  const ts = Date.now() - 7 * 86_400_000;
  for (let i = 0; i < seedEvents; i += 500) {
    const batch = Array.from({ length: Math.min(500, seedEvents - i) }, (_, j) =>
      world.event(ts + i + j, world.users[(i + j) % world.users.length]),
    );
    await post(batch);
    if (i % 10_000 === 0) log(`pipeline: posted ${i}/${seedEvents}`);
  }
  await idle(300_000);
  log('pipeline: seeded and drained');
}

// ---------------------------------------------------------------------------------------------
// freshness

async function freshness(bench: Bench, q: boolean) {
  const { env, world, post, idle } = bench;
  const seconds = q ? 10 : 40;
  const rate = 100; // background events/s, 10 every 100 ms
  const probeEveryMs = 250;
  const stopAt = Date.now() + seconds * 1000;
  const profileMs: number[] = [];
  const neighborsMs: number[] = [];
  const bgTs = Date.now() - 3_600_000;
  let posted = 0;
  const c = env.stores.counter;
  c.reset();
  const background = (async () => {
    while (Date.now() < stopAt) {
      const t = Date.now();
      posted += rate / 10;
      await post(Array.from({ length: rate / 10 }, () => world.event(bgTs + posted * 10)));
      await sleep(Math.max(0, 100 - (Date.now() - t)));
    }
  })();
  const probes: Promise<void>[] = [];
  let k = 0;
  const probe = async (id: string) => {
    const e = { ...world.event(Date.now(), 'u1'), userId: id, type: 'play', msPlayed: 180_000 };
    await post([e]);
    posted++;
    const accepted = performance.now();
    profileMs.push(await visibleAfter(bench, env.topology.tableNames.profiles, id, accepted, () => true));
    neighborsMs.push(
      await visibleAfter(
        bench,
        env.topology.tableNames.neighbors,
        id,
        accepted,
        (it) => Number(it.profileVersion) >= 1,
      ),
    );
  };
  log(`freshness: ${seconds} s at ${rate} events/s, a probe every ${probeEveryMs} ms…`);
  while (Date.now() < stopAt) {
    probes.push(probe(`probe-${Date.now()}-${k++}`));
    await sleep(probeEveryMs);
  }
  await background;
  await Promise.all(probes);
  await idle(120_000);
  // Every trigger's requests in steady state (profiles, index, neighbour lists) over the events.
  return {
    pipelineWriteRequestsPerEvent: c.writes / posted,
    pipelineItemsWrittenPerEvent: c.itemsWritten / posted,
    pipelineReadRequestsPerEvent: c.reads / posted,
    pipelineWriteUnitsPerEventMeasured: c.writeUnits / posted,
    probes: profileMs.length,
    backgroundEventsPerSec: rate,
    profileP50Ms: percentile(profileMs, 50),
    profileP99Ms: percentile(profileMs, 99),
    neighborsP50Ms: percentile(neighborsMs, 50),
    neighborsP99Ms: percentile(neighborsMs, 99),
    pollIntervalMs: 10,
  };
}

/** Ms from `accepted` until the user's item in `table` passes `ok` (polled every 10 ms; ∞ after 30 s). */
async function visibleAfter(
  { poll }: Bench,
  table: string,
  userId: string,
  accepted: number,
  ok: (item: Record<string, unknown>) => boolean,
): Promise<number> {
  const deadline = accepted + 30_000;
  while (performance.now() < deadline) {
    const res = await poll.send(new GetCommand({ TableName: table, Key: { userId } }));
    if (res.Item && ok(res.Item)) return performance.now() - accepted;
    await sleep(10);
  }
  return Number.POSITIVE_INFINITY;
}

// ---------------------------------------------------------------------------------------------
// api

interface LoadResult {
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
}

async function api(bench: Bench, q: boolean) {
  const rate = 200;
  const seconds = q ? 8 : 20;
  const warmupSeconds = q ? 2 : 5;
  const runs = q ? 1 : 3;
  const itemModelBuild = await buildItemModel(bench);
  // The build announces itself on profile-updates; the runs measure the state after the
  // neighbour updater rebuilt the candidate sets with it, as a deployment has it between builds.
  await bench.idle(60_000);
  // Warm-up at the same rate, reported apart: the runs measure warm containers (JIT, sockets,
  // the per-container caches), not the first second after the pipeline's start.
  log(`api: warm-up, ${rate} req/s for ${warmupSeconds} s…`);
  const warmup = await apiLoad(bench, rate, warmupSeconds);
  const results: Awaited<ReturnType<typeof measuredRun>>[] = [];
  for (let r = 0; r < runs; r++) {
    log(`api: ${rate} req/s for ${seconds} s (run ${r + 1}/${runs})…`);
    results.push(await measuredRun(bench, rate, seconds, `run${r + 1}`));
  }
  const handlerOnly = await handlerAlone(bench.world.users.length, q);
  return {
    ratePerSec: rate,
    seconds,
    runs,
    handlerOnly,
    p50Ms: median(results.map((x) => x.p50)),
    p99Ms: median(results.map((x) => x.p99)),
    readRequestsPerRecommendation: median(results.map((x) => x.readsPerRec)),
    serverCpuMsPerRecommendation: median(results.map((x) => x.serverCpuMsPerRec)),
    dynamodbLocalCpuMsPerRecommendation: median(results.map((x) => x.dynamodbLocalCpuMsPerRec)),
    non2xx: results.reduce((a, x) => a + x.non2xx, 0),
    byRun: results,
    warmup: { seconds: warmupSeconds, ...warmup },
    itemModelBuild,
  };
}

/** The item model first, as a deployment has it: recommendations read its lists and counts. */
async function buildItemModel({ env, pipeline }: Bench) {
  const c = env.stores.counter;
  c.reset();
  const build = (await pipeline.schedules.runNow('item-model-builder')) as BuildSummary;
  log(`api: item model built in ${build.seconds.toFixed(1)} s, ${c.itemsWritten} items written`);
  return {
    seconds: build.seconds,
    archiveBytes: build.archive.bytes,
    scanReadRequests: c.reads,
    scanReadUnits: c.readUnits,
    itemsWritten: c.itemsWritten,
    writeUnits: c.writeUnits,
    writeRequests: c.writes,
    kinds: build.kinds,
  };
}

/** autocannon in a child process: GET /users/{id}/recommendations at `rate` for `secs`. */
async function apiLoad({ pipeline, world }: Bench, rate: number, secs: number): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./api-load.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', script, pipeline.url, String(rate), String(secs), String(world.users.length)],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult;
}

/** One measured run: latency, DynamoDB reads and CPU per recommendation. */
async function measuredRun(bench: Bench, rate: number, seconds: number, label: string) {
  const c = bench.env.stores.counter;
  const jvm = bench.env.infra.jvms.find((j) => j.name === 'dynamodb-local')?.child.pid;
  c.reset();
  const profiler = await startCpuProfile();
  const cpu0 = process.cpuUsage();
  const jvm0 = processCpuMs(jvm);
  const res = await apiLoad(bench, rate, seconds);
  const cpu = process.cpuUsage(cpu0);
  const jvmMs = processCpuMs(jvm) - jvm0;
  await profiler?.(label);
  const n = Math.max(1, res.requests);
  return {
    ...res,
    readsPerRec: c.reads / n,
    // CPU per request, which the machine's other load does not inflate as it does latency:
    // this process (all its threads) and the DynamoDB Local JVM (Linux /proc; NaN elsewhere).
    serverCpuMsPerRec: (cpu.user + cpu.system) / 1000 / n,
    dynamodbLocalCpuMsPerRec: jvmMs / n,
  };
}

/** CPU ms (user + system) a process has used so far, from Linux /proc; NaN elsewhere. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ 100
  } catch {
    return Number.NaN;
  }
}

/**
 * The handler alone in its own process, one request at a time, as a Lambda container runs it,
 * interleaved with its BatchGet alone (wire and SDK) and a trivial HTTP round trip.
 */
async function handlerAlone(users: number, q: boolean): Promise<Record<string, unknown>> {
  log('api: the read-api handler alone (own process, sequential)…');
  const handlerScript = fileURLToPath(new URL('./api-handler.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...(process.env.BENCH_API_CPU_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_API_CPU_PROFILE}`, '--cpu-prof-interval=200']
        : []),
      '--import',
      'tsx',
      handlerScript,
      String(users),
      String(q ? 500 : 1000),
      String(q ? 3 : 5),
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// dynamodb: the cost of a neighbour refresh

type NeighborUpdater = typeof import('../functions/neighbor-updater/handler.ts');

async function refreshCost(bench: Bench) {
  const updater = await import('../functions/neighbor-updater/handler.ts');
  const users = bench.world.users.slice(0, 400);
  const profiles = await getProfiles(bench.env.stores, users, false);
  const records = profileUpdates(bench, profiles);
  const measure = (ids: string[][], cache: 'cold' | 'warm' = 'cold') =>
    measureRefreshes(bench, updater, records, ids, cache);
  const batch200 = await measure([users.slice(0, 200)]);
  const single = await measure(users.slice(200, 240).map((u) => [u]));
  const singleWarm = await measure(
    users.slice(280, 320).map((u) => [u]),
    'warm',
  );
  // Side by side: the same refresh without reverse insertions (a setting; what it costs).
  const before = process.env.NEIGHBOR_REVERSE_UPDATES;
  process.env.NEIGHBOR_REVERSE_UPDATES = '0';
  const singleNoReverse = await measure(users.slice(240, 280).map((u) => [u]));
  if (before === undefined) delete process.env.NEIGHBOR_REVERSE_UPDATES;
  else process.env.NEIGHBOR_REVERSE_UPDATES = before;
  return {
    oneUserPerBatchWithoutReverseUpdates: singleNoReverse,
    itemsReadPerRefresh: single.itemsReadPerRefresh,
    populatedUsers: bench.world.users.length,
    oneUserPerBatch: single,
    oneUserPerBatchWarmCellCache: singleWarm,
    batchOf200: batch200,
  };
}

/** profile-updates records for users: a changed profile (one genre boosted: drift above the threshold), a newer version. */
function profileUpdates({ env }: Bench, profiles: Awaited<ReturnType<typeof getProfiles>>) {
  let offset = 1_000_000;
  return (ids: string[]): MskRecord[] =>
    ids.flatMap((id) => {
      const p = profiles.get(id);
      if (!p) return [];
      const g = Object.keys(p.genres)[0];
      const genres = { ...p.genres, ...(g ? { [g]: (p.genres[g] ?? 0) * 1.5 + 1 } : {}) };
      const update = profileUpdateOf({ ...p, genres, version: p.version + 1000 });
      return [
        {
          topic: env.topology.topicNames.profileUpdates,
          partition: 0,
          offset: offset++,
          timestamp: Date.now(),
          timestampType: 'CREATE_TIME' as const,
          key: Buffer.from(id).toString('base64'),
          value: Buffer.from(JSON.stringify(update)).toString('base64'),
          headers: [],
        },
      ];
    });
}

/** updateNeighbors on one batch per group of users: requests, units and writes per refresh. */
async function measureRefreshes(
  { env }: Bench,
  { updateNeighbors, clearCellCache }: NeighborUpdater,
  recordsFor: (ids: string[]) => MskRecord[],
  ids: string[][],
  cache: 'cold' | 'warm',
) {
  const c = env.stores.counter;
  const source = { eventSourceArn: localClusterArn(), bootstrapServers: env.infra.kafkaBrokers.join(',') };
  // Cold: every batch as in a fresh container (the per-container cell cache would otherwise
  // serve cells read before; conservative for the cost model). Warm: batches share the cache.
  clearCellCache();
  c.reset();
  let refreshed = 0;
  let items = 0;
  let wall = 0;
  // What a refresh writes, from the handler's summary: index entries, candidate sets (and
  // their bytes), reverse insertions into other users' lists.
  const writes = { indexWrites: 0, candidateSets: 0, candidateBytes: 0, reverseInserts: 0 };
  const tallies: (typeof c.writeTallies)[] = [];
  for (const group of ids) {
    if (cache === 'cold') clearCellCache();
    const t0 = performance.now();
    const s = await updateNeighbors(buildMskEvent(recordsFor(group), source), Date.now() + 60_000);
    wall += performance.now() - t0;
    refreshed += s.refreshed ?? 0;
    items += s.indexItemsRead ?? 0;
    for (const k of Object.keys(writes) as (keyof typeof writes)[]) writes[k] += s[k] ?? 0;
  }
  tallies.push(c.writeTallies);
  const per = Math.max(1, refreshed);
  return {
    refreshed,
    itemsReadPerRefresh: items / per,
    readRequestsPerRefresh: c.reads / per,
    readUnitsPerRefresh: c.readUnits / per,
    writeRequestsPerRefresh: c.writes / per,
    itemsWrittenPerRefresh: c.itemsWritten / per,
    // Billed by item size: a neighbour list of K entries is several 1 KB units.
    writeUnitsPerRefresh: c.writeUnits / per,
    indexWritesPerRefresh: writes.indexWrites / per,
    candidateSetsPerRefresh: writes.candidateSets / per,
    candidateSetBytes: writes.candidateBytes / Math.max(1, writes.candidateSets),
    reverseInsertsPerRefresh: writes.reverseInserts / per,
    /** Per refresh, by table and kind (`neighbors/reverse`): items, units, item sizes. */
    writesByKind: writeShares(tallies, env.topology.tableNames, per),
    wallMsPerRefresh: wall / per,
  };
}
