/**
 * profilePath: the profile-updater's handler logic (`updateProfiles`) on MSK events built like the
 * event source mapping builds them, every DynamoDB call going to DynamoDB Local and counted.
 * CPU is the Node process's only (process.cpuUsage); DynamoDB Local stands in for a billed
 * service, so its CPU is not ours. Also reports wall time per event (billed Lambda duration).
 *
 * endToEnd: N events produced to a fresh listen-events topic, drained once by a bare kafkajs
 * consumer (raw consume rate) and once by the profile-updater's emulated event source mapping
 * (until every partition is committed), in the same run.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { MSKEvent } from 'aws-lambda';
import { invokeFunction } from '../local/runtime/functions.ts';
import { startEventSourceMapping } from '../local/runtime/kafka-esm.ts';
import { buildMskEvent, localClusterArn, type MskRecord } from '../local/runtime/msk-event.ts';
import { disconnectProducer } from '../shared/adapters/kafka.ts';
import { createKafka } from '../shared/adapters/kafka-client.ts';
import { triggers } from '../shared/topology.ts';
import { freshEnv, loadCatalog, log, syntheticWorld, type World } from './env.ts';
import { median, type WriteShare, writeShares } from './lib.ts';

const PARTITIONS = 6;

function partitionOf(userId: string): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) | 0;
  return Math.abs(h) % PARTITIONS;
}

/** Builds MSK events of `size` records with increasing offsets per partition. */
function eventFactory(world: World, topic: string) {
  const offsets = new Array(PARTITIONS).fill(0);
  let ts = Date.now() - 3 * 86_400_000;
  const source = { eventSourceArn: localClusterArn(), bootstrapServers: '127.0.0.1:9092' };
  return (size: number): MSKEvent => {
    const records: MskRecord[] = [];
    for (let i = 0; i < size; i++) {
      ts += 50;
      const e = world.event(ts);
      const partition = partitionOf(e.userId as string);
      records.push({
        topic,
        partition,
        offset: offsets[partition]++,
        timestamp: e.ts as number,
        timestampType: 'CREATE_TIME',
        key: Buffer.from(e.userId as string).toString('base64'),
        value: Buffer.from(JSON.stringify(e)).toString('base64'),
        headers: [],
      });
    }
    return buildMskEvent(records, source);
  };
}

export interface BatchFigures {
  batchSize: number;
  batches: number;
  eventsPerCpuSecond: number;
  wallMsPerEvent: number;
  /** Items written per event (each billed as at least one write unit). */
  writesPerEvent: number;
  /** Write requests per event (25 items per batched request). */
  writeRequestsPerEvent: number;
  writeUnitsPerEvent: number;
  readsPerEvent: number;
  readUnitsPerEvent: number;
  usersPerEvent: number;
  /** Per event, by table and kind (`profiles/write`): items, units, item sizes. */
  writesByKind: Record<string, WriteShare>;
}

export async function profilePath(quick: boolean) {
  const env = await freshEnv('profile');
  const world = syntheticWorld({ users: 50_000, artists: quick ? 1000 : 3000, tracksPerArtist: 5 });
  log('profilePath: loading catalog…');
  await loadCatalog(env.stores, world);
  const { updateProfiles } = await import('../functions/profile-updater/handler.ts');
  const next = eventFactory(world, env.topology.topicNames.listenEvents);
  // Warm-up: JIT, catalog cache, producer connection; and profiles with some history.
  for (let i = 0; i < (quick ? 2 : 10); i++) await updateProfiles(next(2000));

  const plan: [number, number][] = quick
    ? [
        [100, 10],
        [1000, 4],
        [10_000, 1],
      ]
    : [
        [100, 60],
        [1000, 20],
        [10_000, 5],
      ];
  const out: BatchFigures[] = [];
  const c = env.stores.counter;
  // BENCH_CPU_PROFILE=<file.cpuprofile>: a V8 CPU profile of the batch-1000 runs only (open in
  // Chrome DevTools), to see where the profile path's CPU goes.
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const session = profileFile ? new Session() : undefined;
  for (const [size, runs] of plan) {
    const perBatch: Omit<BatchFigures, 'batchSize' | 'batches' | 'writesByKind'>[] = [];
    const tallies: Map<string, NonNullable<ReturnType<typeof c.writeTallies.get>>>[] = [];
    if (session && size === 1000) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (let r = 0; r < runs; r++) {
      const event = next(size);
      c.reset();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const summary = await updateProfiles(event);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuSec = (cpu.user + cpu.system) / 1e6;
      tallies.push(new Map([...c.writeTallies].map(([k, t]) => [k, { ...t, byUnits: { ...t.byUnits } }])));
      perBatch.push({
        eventsPerCpuSecond: size / cpuSec,
        wallMsPerEvent: wall / size,
        writesPerEvent: c.itemsWritten / size,
        writeRequestsPerEvent: c.writes / size,
        writeUnitsPerEvent: c.writeUnits / size,
        readsPerEvent: c.reads / size,
        readUnitsPerEvent: c.readUnits / size,
        usersPerEvent: (summary.users ?? 0) / size,
      });
    }
    if (session && size === 1000) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profileFile!, JSON.stringify(profile));
      session.disconnect();
      log(`profilePath: CPU profile of the batch-${size} runs in ${profileFile}`);
    }
    const m = (k: keyof (typeof perBatch)[number]) => median(perBatch.map((p) => p[k]));
    const fig: BatchFigures = {
      batchSize: size,
      batches: runs,
      eventsPerCpuSecond: m('eventsPerCpuSecond'),
      wallMsPerEvent: m('wallMsPerEvent'),
      writesPerEvent: m('writesPerEvent'),
      writeRequestsPerEvent: m('writeRequestsPerEvent'),
      writeUnitsPerEvent: m('writeUnitsPerEvent'),
      readsPerEvent: m('readsPerEvent'),
      readUnitsPerEvent: m('readUnitsPerEvent'),
      usersPerEvent: m('usersPerEvent'),
      writesByKind: writeShares(tallies, env.topology.tableNames, size * runs),
    };
    log(
      `profilePath: batch ${size}: ${fig.eventsPerCpuSecond.toFixed(0)} events/CPU-s, ${fig.writesPerEvent.toFixed(3)} writes/event`,
    );
    out.push(fig);
  }
  await disconnectProducer();
  const atTopology = out.find((f) => f.batchSize === 1000)!;
  return {
    eventsPerSecPerCore: atTopology.eventsPerCpuSecond,
    writesPerEvent: atTopology.writesPerEvent,
    byBatchSize: out,
    world: { users: world.users.length, tracks: world.tracks.length, zipf: 'users s=0.9, tracks s=1.0' },
  };
}

export async function endToEnd(quick: boolean) {
  const env = await freshEnv('e2e');
  const world = syntheticWorld({ users: 50_000, artists: quick ? 1000 : 3000, tracksPerArtist: 5, seed: 2 });
  await loadCatalog(env.stores, world);
  const topic = env.topology.topicNames.listenEvents;
  const kafka = createKafka({ brokers: env.infra.kafkaBrokers, auth: 'none', clientId: 'bench-e2e' });
  const n = quick ? 10_000 : 50_000;
  const producer = kafka.producer();
  await producer.connect();
  let ts = Date.now() - 86_400_000;
  log(`endToEnd: producing ${n} events…`);
  for (let i = 0; i < n; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, n - i) }, () => {
      ts += 10;
      const e = world.event(ts);
      return { key: e.userId as string, value: JSON.stringify(e) };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();

  // Raw consume: a bare consumer draining the topic (join + fetch + decode, nothing else).
  log('endToEnd: raw kafkajs consume…');
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(3).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  const rawStart = performance.now();
  const rawMs = await new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= n) resolve(performance.now() - rawStart);
      },
    });
  });
  await consumer.disconnect();

  log('endToEnd: profile-updater through its event source mapping…');
  const trigger = triggers.find((t) => t.function === 'profile-updater')!;
  const c = env.stores.counter;
  c.reset();
  const cpu0 = process.cpuUsage();
  const esmStart = performance.now();
  const esm = await startEventSourceMapping({
    kafka,
    trigger,
    topicName: topic,
    groupId: `${env.topology.prefix}${trigger.consumerGroupId}`,
    deadLetterTopic: env.topology.topicNames.deadLetters,
    invoke: (event) => invokeFunction('profile-updater', event),
    bootstrapServers: env.infra.kafkaBrokers.join(','),
  });
  const done = () => [...ends].every(([p, high]) => (esm.stats().committed[p] ?? 0) >= high);
  const deadline = Date.now() + (quick ? 120_000 : 400_000);
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const esmMs = performance.now() - esmStart;
  const cpu = process.cpuUsage(cpu0);
  const stats = esm.stats();
  await esm.stop();
  await disconnectProducer();
  if (!done()) throw new Error(`endToEnd: not all ${n} events committed within the deadline`);
  const rawRate = n / (rawMs / 1000);
  const esmRate = n / (esmMs / 1000);
  return {
    events: n,
    rawConsumePerSec: rawRate,
    profileUpdaterPerSec: esmRate,
    ratioToRawConsume: esmRate / rawRate,
    invocations: stats.batches,
    eventsPerCpuSecond: n / ((cpu.user + cpu.system) / 1e6),
    dynamoRequestsPerSec: (c.reads + c.writes) / (esmMs / 1000),
    dynamoWriteRequestsPerSec: c.writes / (esmMs / 1000),
    dynamoItemsWrittenPerSec: c.itemsWritten / (esmMs / 1000),
  };
}
