import { KafkaMskEventSchema } from '@aws-lambda-powertools/parser/schemas/kafka';
import type { MSKEvent } from 'aws-lambda';
import { type Admin, type Consumer, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventSourceMapping, startEventSourceMapping } from '../../local/runtime/kafka-esm.ts';
import type { MskRecord } from '../../local/runtime/msk-event.ts';
import { DeadLetterV1 } from '../../shared/domain/events/events.ts';
import type { TriggerSpec } from '../../shared/topology.ts';
import { eventually, provisionedTestEnv, type TestEnv } from '../support/infra.ts';

type Sent = { partition: number; value: string; key?: string; headers?: Message['headers']; timestamp?: string };

describe('Kafka event source mapping emulator (real broker)', () => {
  let t: TestEnv;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let dlqConsumer: Consumer;
  const deadLetters: DeadLetterV1[] = [];
  const mappings: EventSourceMapping[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    t = await provisionedTestEnv('esm');
    kafka = t.kafka();
    admin = kafka.admin();
    // Idempotent: a retried send on a just-created topic must not duplicate records (tests count them).
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    dlqConsumer = kafka.consumer({ groupId: `${t.prefix}dlq-reader`, maxWaitTimeInMs: 100 });
    await Promise.all([admin.connect(), producer.connect(), dlqConsumer.connect()]);
    await dlqConsumer.subscribe({ topics: [t.topology.topicNames.deadLetters], fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        deadLetters.push(DeadLetterV1.parse(JSON.parse(message.value!.toString())));
      },
    });
  });

  afterEach(async (ctx) => {
    await Promise.all(mappings.splice(0).map((m) => m.stop()));
    // The mapping's own log explains a failed expectation far better than a timeout does.
    if (ctx.task.result?.state === 'fail') process.stderr.write(`${logs.join('\n')}\n`);
    logs.length = 0;
  });

  afterAll(async () => {
    await Promise.allSettled([admin?.disconnect(), producer?.disconnect(), dlqConsumer?.disconnect()]);
  });

  async function topic(name: string, partitions: number): Promise<string> {
    const topicName = `${t.prefix}${name}`;
    // kafkajs's waitForLeaders gives up on KRaft's transient UNKNOWN_TOPIC_OR_PARTITION; poll instead.
    await admin.createTopics({ topics: [{ topic: topicName, numPartitions: partitions }], waitForLeaders: false });
    await eventually(
      async () => {
        const md = await admin.fetchTopicMetadata({ topics: [topicName] });
        const ps = md.topics[0]?.partitions ?? [];
        return ps.length === partitions && ps.every((p) => p.leader >= 0) ? true : undefined;
      },
      { what: `leaders for ${topicName}` },
    );
    return topicName;
  }

  async function produce(topicName: string, records: Sent[]): Promise<void> {
    await producer.send({ topic: topicName, acks: -1, messages: records });
  }

  function trigger(over: Partial<TriggerSpec> = {}): TriggerSpec {
    return {
      function: 'catalog-updater',
      topic: 'tracks',
      consumerGroupId: 'test',
      batchSize: 100,
      maxBatchingWindowSeconds: 0.2,
      retryAttempts: 2,
      bisectBatchOnError: false,
      maxRecordAgeSeconds: -1,
      reportBatchItemFailures: false,
      onFailure: 'dead-letters',
      startingPosition: 'TRIM_HORIZON',
      ...over,
    };
  }

  async function start(
    topicName: string,
    over: Partial<TriggerSpec>,
    invoke: (event: MSKEvent) => Promise<unknown>,
    group = 'g',
  ): Promise<EventSourceMapping> {
    const esm = await startEventSourceMapping({
      kafka,
      trigger: trigger(over),
      topicName,
      groupId: `${t.prefix}${topicName}-${group}`,
      deadLetterTopic: t.topology.topicNames.deadLetters,
      invoke,
      log: (l) => logs.push(`${new Date().toISOString()} ${l}`),
      backoff: { initialMs: 20, maxMs: 100 },
    });
    mappings.push(esm);
    return esm;
  }

  const recordsOf = (event: MSKEvent) => Object.values(event.records).flat() as MskRecord[];
  const text = (b64: string) => Buffer.from(b64, 'base64').toString();
  const valuesOf = (event: MSKEvent) => recordsOf(event).map((r) => text(r.value));

  async function committedOffsets(groupId: string, topicName: string): Promise<Record<number, number>> {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topicName] });
    return Object.fromEntries((res?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  }

  it('delivers MSK events in partition order, batches across partitions, commits, and does not redeliver', async () => {
    const topicName = await topic('deliver', 3);
    const sent: Sent[] = [];
    for (let p = 0; p < 3; p++)
      for (let i = 0; i < 10; i++)
        sent.push({ partition: p, key: `k${p}`, value: `p${p}-${i}`, headers: { trace: `t${p}${i}` } });
    await produce(topicName, sent);

    const events: MSKEvent[] = [];
    let esm = await start(topicName, {}, async (e) => {
      events.push(e);
    });
    await eventually(async () => (events.flatMap(recordsOf).length >= 30 ? true : undefined), { what: '30 records' });
    await eventually(async () => {
      const c = esm.stats().committed;
      return c[0] === 10 && c[1] === 10 && c[2] === 10 ? true : undefined;
    });

    for (const e of events) expect(KafkaMskEventSchema.safeParse(e).success).toBe(true);
    expect(events[0]).toMatchObject({ eventSource: 'aws:kafka', bootstrapServers: t.kafkaBrokers.join(',') });
    // Fetched together, the three partitions share an invocation, like Lambda's batches.
    expect(events.some((e) => Object.keys(e.records).length > 1)).toBe(true);
    for (let p = 0; p < 3; p++) {
      const got = events.flatMap((e) => e.records[`${topicName}-${p}`] ?? []) as MskRecord[];
      expect(got.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(got.map((r) => text(r.value))).toEqual(sent.filter((s) => s.partition === p).map((s) => s.value));
      expect(got.every((r) => text(r.key!) === `k${p}`)).toBe(true);
      expect(Buffer.from(got[3]!.headers[0]!.trace!).toString()).toBe(`t${p}3`);
    }
    const groupId = `${t.prefix}${topicName}-g`;
    expect(await committedOffsets(groupId, topicName)).toEqual({ 0: 10, 1: 10, 2: 10 });
    expect(await esm.lag()).toEqual({ 0: 0, 1: 0, 2: 0 });
    expect(esm.stats()).toMatchObject({ records: 30, failures: 0, deadLettered: 0 });

    // Restart the mapping: only new records arrive.
    await esm.stop();
    await produce(
      topicName,
      [0, 1, 2].map((p) => ({ partition: p, value: `late-${p}` })),
    );
    const later: MSKEvent[] = [];
    esm = await start(topicName, {}, async (e) => {
      later.push(e);
    });
    await eventually(async () => (later.flatMap(recordsOf).length >= 3 ? true : undefined), { what: 'late records' });
    await new Promise((r) => setTimeout(r, 500));
    expect(later.flatMap(valuesOf).sort()).toEqual(['late-0', 'late-1', 'late-2']);
    await eventually(async () => (esm.stats().committed[2] === 11 ? true : undefined));
  });

  it('retries a batch whose invocation threw, without committing it first', async () => {
    const topicName = await topic('retry', 1);
    await produce(
      topicName,
      [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `r${i}` })),
    );
    const groupId = `${t.prefix}${topicName}-g`;
    const calls: string[][] = [];
    const committedDuringRetry: Record<number, number>[] = [];
    const esm = await start(topicName, {}, async (e) => {
      calls.push(valuesOf(e));
      if (calls.length === 1) throw new Error('transient');
      committedDuringRetry.push(await committedOffsets(groupId, topicName));
    });
    await eventually(async () => (esm.stats().committed[0] === 5 ? true : undefined));
    expect(calls).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4'],
      ['r0', 'r1', 'r2', 'r3', 'r4'],
    ]);
    expect(committedDuringRetry).toEqual([{ 0: -1 }]);
    expect(esm.stats()).toMatchObject({ batches: 2, failures: 1, records: 5, deadLettered: 0 });
    expect(logs.some((l) => l.includes('transient'))).toBe(true);
  });

  it('isolates a poison record with bisect, dead-letters it and keeps the partition moving', async () => {
    const topicName = await topic('poison', 2);
    const p0 = Array.from({ length: 8 }, (_, i) => ({
      partition: 0,
      key: `u${i}`,
      value: i === 5 ? 'POISON' : `a${i}`,
    }));
    const p1 = Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `b${i}` }));
    await produce(topicName, [...p0, ...p1]);
    const delivered: MskRecord[] = [];
    const esm = await start(topicName, { bisectBatchOnError: true, retryAttempts: 1 }, async (e) => {
      if (valuesOf(e).includes('POISON')) throw new Error('cannot apply POISON');
      delivered.push(...recordsOf(e));
    });
    await eventually(async () => (deadLetters.some((d) => d.sourceTopic === topicName) ? true : undefined), {
      what: 'dead letter',
    });
    await eventually(async () => {
      const c = esm.stats().committed;
      return c[0] === 8 && c[1] === 4 ? true : undefined;
    });

    const letters = deadLetters.filter((d) => d.sourceTopic === topicName);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reason: 'retries-exhausted',
      error: 'cannot apply POISON',
      partition: 0,
      offset: 5,
      key: Buffer.from('u5').toString('base64'),
      value: Buffer.from('POISON').toString('base64'),
      function: 'catalog-updater',
    });
    const offsets = (p: number) => delivered.filter((r) => r.partition === p).map((r) => r.offset);
    expect(offsets(0)).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(offsets(1)).toEqual([0, 1, 2, 3]);
    expect(esm.stats().deadLettered).toBe(1);

    // Not blocked: a new record on the partition is delivered.
    await produce(topicName, [{ partition: 0, value: 'after' }]);
    await eventually(async () => (delivered.some((r) => text(r.value) === 'after') ? true : undefined));
  });

  it('follows reportBatchItemFailures: checkpoint at the lowest failure, retry the rest', async () => {
    const topicName = await topic('partial', 1);
    const values = ['ok0', 'ok1', 'FLAKY', 'ok3', 'BAD', 'ok5'];
    await produce(
      topicName,
      values.map((value) => ({ partition: 0, value })),
    );
    const calls: number[][] = [];
    let flaky = true;
    const esm = await start(
      topicName,
      { reportBatchItemFailures: true, bisectBatchOnError: true, retryAttempts: 1 },
      async (e) => {
        const records = recordsOf(e);
        calls.push(records.map((r) => r.offset));
        const failed = records.filter((r) => {
          const v = text(r.value);
          return v === 'BAD' || (v === 'FLAKY' && flaky);
        });
        if (records.some((r) => text(r.value) === 'FLAKY')) flaky = false;
        return {
          batchItemFailures: failed.map((r) => ({
            itemIdentifier: { partition: `${r.topic}-${r.partition}`, offset: r.offset },
          })),
        };
      },
    );
    await eventually(async () => (esm.stats().committed[0] === 6 ? true : undefined));
    // Split at the reported offset (free), then halve and spend the retry on the single bad record.
    expect(calls).toEqual([[0, 1, 2, 3, 4, 5], [2, 3, 4, 5], [4, 5], [4], [4], [5]]);
    await eventually(async () => (deadLetters.some((d) => d.sourceTopic === topicName) ? true : undefined));
    const letters = deadLetters.filter((d) => d.sourceTopic === topicName);
    expect(letters.map((l) => [l.offset, l.reason])).toEqual([[4, 'retries-exhausted']]);
  });

  it('dead-letters failing records older than maxRecordAgeSeconds without retrying them', async () => {
    const topicName = await topic('old', 1);
    const twoHoursAgo = String(Date.now() - 2 * 3600_000);
    await produce(topicName, [
      { partition: 0, value: 'stale', timestamp: twoHoursAgo },
      { partition: 0, value: 'fresh' },
    ]);
    const calls: string[][] = [];
    const esm = await start(topicName, { maxRecordAgeSeconds: 3600, retryAttempts: 3 }, async (e) => {
      calls.push(valuesOf(e));
      if (calls.length === 1) throw new Error('downstream unavailable');
    });
    await eventually(async () => (esm.stats().committed[0] === 2 ? true : undefined));
    expect(calls).toEqual([['stale', 'fresh'], ['fresh']]);
    await eventually(async () => (deadLetters.some((d) => d.sourceTopic === topicName) ? true : undefined));
    expect(deadLetters.filter((d) => d.sourceTopic === topicName)).toMatchObject([
      { reason: 'record-too-old', offset: 0, error: 'downstream unavailable' },
    ]);
  });

  it('caps batches at batchSize and pauses fetching for a partition with a full buffer', async () => {
    const topicName = await topic('backpressure', 1);
    await produce(
      topicName,
      Array.from({ length: 23 }, (_, i) => ({ partition: 0, value: `v${i}` })),
    );
    const sizes: number[] = [];
    const seen: string[] = [];
    const esm = await startEventSourceMapping({
      kafka,
      trigger: trigger({ batchSize: 5 }),
      topicName,
      groupId: `${t.prefix}${topicName}-g`,
      deadLetterTopic: t.topology.topicNames.deadLetters,
      maxBufferedPerPartition: 6,
      invoke: async (e) => {
        sizes.push(recordsOf(e).length);
        seen.push(...valuesOf(e));
        await new Promise((r) => setTimeout(r, 20));
      },
    });
    mappings.push(esm);
    await eventually(async () => (esm.stats().committed[0] === 23 ? true : undefined));
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `v${i}`));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    expect(esm.stats()).toMatchObject({ buffered: 0, inFlight: 0, lagByPartition: { 0: 0 } });
  });

  it('stops cleanly mid-retry without committing, and redelivers after a restart', async () => {
    const topicName = await topic('stop', 1);
    await produce(topicName, [
      { partition: 0, value: 's0' },
      { partition: 0, value: 's1' },
    ]);
    let calls = 0;
    const esm = await startEventSourceMapping({
      kafka,
      trigger: trigger({ retryAttempts: 5 }),
      topicName,
      groupId: `${t.prefix}${topicName}-g`,
      deadLetterTopic: t.topology.topicNames.deadLetters,
      invoke: async () => {
        calls++;
        throw new Error('always failing');
      },
      backoff: { initialMs: 120_000 },
    });
    await eventually(async () => (calls >= 1 ? true : undefined));
    const t0 = Date.now();
    await esm.stop(); // breaks off the two-minute backoff: far from it even on a loaded machine
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(await committedOffsets(`${t.prefix}${topicName}-g`, topicName)).toEqual({ 0: -1 });

    const again: string[] = [];
    const restarted = await start(topicName, {}, async (e) => {
      again.push(...valuesOf(e));
    });
    await eventually(async () => (restarted.stats().committed[0] === 2 ? true : undefined));
    expect(again).toEqual(['s0', 's1']);
    expect(deadLetters.filter((d) => d.sourceTopic === topicName)).toEqual([]);
  });
});
