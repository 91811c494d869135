/**
 * Poison records on every consumed topic, through the whole local pipeline on the real broker and
 * DynamoDB Local: malformed bytes, invalid JSON, schema violations, oversized values and unknown
 * event types sit between valid records on the same partition. Every bad record must reach
 * dead-letters with its reason and source coordinates, every valid record must be applied, and
 * records in = applied + dead-lettered.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { profileFromItem } from '../../shared/adapters/dynamodb/profiles.ts';
import { settings } from '../../shared/topology.ts';
import { readDeadLetters } from '../../tools/chaos/topic-reader.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

type Env = Awaited<ReturnType<typeof provisionedTestEnv>>;
const NOW = Date.now();
const KEY = 'poison-key';

interface Injected {
  value: Buffer | string;
  /** Expected dead-letter reason; undefined for a valid record. */
  reason?: string;
  /** Id used to check a valid record was applied. */
  id?: string;
}

const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"\xff\xfe"}
const oversized = (base: object) => JSON.stringify({ ...base, padding: 'x'.repeat(settings.MAX_RECORD_BYTES + 1) });

/** Valid records interleaved with one of each kind of bad record, per topic. */
function listenRecords(): Injected[] {
  const valid = (i: number) => ({
    eventId: `poison-ev-${i}`,
    userId: 'poison-listener',
    trackId: `trk-${i}`,
    artistId: 'art-poison',
    ts: NOW - i * 1000,
    type: 'play',
    v: 1,
  });
  return [
    { value: JSON.stringify(valid(0)), id: '0' },
    { value: invalidUtf8, reason: 'invalid-json' },
    { value: JSON.stringify(valid(1)), id: '1' },
    { value: '{"userId":"poison-listener",', reason: 'invalid-json' },
    { value: JSON.stringify(valid(2)), id: '2' },
    { value: JSON.stringify({ ...valid(99), ts: 'yesterday' }), reason: 'invalid-schema' },
    { value: JSON.stringify(valid(3)), id: '3' },
    { value: oversized(valid(98)), reason: 'too-large' },
    { value: JSON.stringify(valid(4)), id: '4' },
    { value: JSON.stringify({ ...valid(97), type: 'scrobble' }), reason: 'invalid-schema' },
    { value: '', reason: 'invalid-json' },
    { value: JSON.stringify(valid(5)), id: '5' },
  ];
}

function trackRecords(): Injected[] {
  const valid = (i: number) => ({
    trackId: `poison-trk-${i}`,
    title: `Poison ${i}`,
    artistId: 'art-poison',
    artistName: 'Poison',
    genres: ['rock'],
    updatedAt: NOW,
  });
  return [
    { value: JSON.stringify(valid(0)), id: 'poison-trk-0' },
    { value: invalidUtf8, reason: 'invalid-json' },
    { value: JSON.stringify(valid(1)), id: 'poison-trk-1' },
    { value: 'null', reason: 'invalid-schema' },
    { value: JSON.stringify({ ...valid(99), genres: ['polka-of-doom'] }), reason: 'invalid-schema' },
    { value: JSON.stringify(valid(2)), id: 'poison-trk-2' },
    { value: oversized(valid(98)), reason: 'too-large' },
    { value: JSON.stringify({ albumId: 'alb-1', kind: 'album', updatedAt: NOW }), reason: 'invalid-schema' },
    { value: JSON.stringify(valid(3)), id: 'poison-trk-3' },
  ];
}

function profileUpdateRecords(): Injected[] {
  const valid = (i: number) => ({ userId: `poison-user-${i}`, version: 1, ts: NOW, genres: { rock: 0.8, jazz: 0.6 } });
  return [
    { value: JSON.stringify(valid(0)), id: 'poison-user-0' },
    { value: invalidUtf8, reason: 'invalid-json' },
    { value: JSON.stringify(valid(1)), id: 'poison-user-1' },
    { value: '[1,2,', reason: 'invalid-json' },
    { value: JSON.stringify({ ...valid(99), version: -1 }), reason: 'invalid-schema' },
    { value: JSON.stringify(valid(2)), id: 'poison-user-2' },
    { value: oversized(valid(98)), reason: 'too-large' },
    { value: JSON.stringify({ ...valid(97), v: 2 }), reason: 'invalid-schema' },
    { value: JSON.stringify(valid(3)), id: 'poison-user-3' },
  ];
}

/** Produces one record at a time (same key → same partition) and returns each one's coordinates. */
async function inject(kafka: Kafka, topic: string, records: Injected[]) {
  const producer = kafka.producer();
  await producer.connect();
  const out: (Injected & { partition: number; offset: number })[] = [];
  try {
    for (const r of records) {
      const [meta] = await producer.send({ topic, messages: [{ key: KEY, value: r.value }] });
      out.push({ ...r, partition: meta!.partition, offset: Number(meta!.baseOffset) });
    }
  } finally {
    await producer.disconnect();
  }
  return out;
}

describe('poison records on every consumed topic', () => {
  let t: Env;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    t = await provisionedTestEnv('poison');
    pipeline = await startTestPipeline(t, {
      env: { NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS: '0' },
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('dead-letters every bad record with reason and coordinates, applies every valid one, loses none', async () => {
    const kafka = t.kafka();
    const names = t.topology.topicNames;
    const db = t.documentClient();
    const get = async (table: string, key: Record<string, string>) =>
      (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

    const cases = [
      {
        topic: names.listenEvents,
        fn: 'profile-updater',
        sent: await inject(kafka, names.listenEvents, listenRecords()),
        // Applied = counted in the listener's profile.
        applied: async (ids: string[]) => {
          const item = await get(t.topology.tableNames.profiles, { userId: 'poison-listener' });
          return item && profileFromItem(item).counts.events === ids.length ? ids.length : 0;
        },
      },
      {
        topic: names.tracks,
        fn: 'catalog-updater',
        sent: await inject(kafka, names.tracks, trackRecords()),
        applied: async (ids: string[]) => {
          const found = await Promise.all(ids.map((id) => get(t.topology.tableNames.catalog, { itemId: `t#${id}` })));
          return found.filter(Boolean).length;
        },
      },
      {
        topic: names.profileUpdates,
        fn: 'neighbor-updater',
        sent: await inject(kafka, names.profileUpdates, profileUpdateRecords()),
        applied: async (ids: string[]) => {
          const found = await Promise.all(ids.map((id) => get(t.topology.tableNames.neighbors, { userId: id })));
          return found.filter(Boolean).length;
        },
      },
    ];

    const totalBad = cases.reduce((a, c) => a + c.sent.filter((r) => r.reason).length, 0);
    // Wait for the profile-updater's own profile-updates too; dead letters are read once all are in.
    const letters = await eventually(
      async () => {
        // Only the cases' functions: the event-archiver dead-letters bad listen-events as its own.
        const all = (await readDeadLetters(kafka, names.deadLetters)).filter((l) =>
          cases.some((c) => c.topic === l.sourceTopic && c.fn === l.function),
        );
        return all.length >= totalBad ? all : undefined;
      },
      { what: `${totalBad} dead letters`, timeoutMs: 40_000, intervalMs: 500 },
    );
    expect(letters.length).toBe(totalBad); // none dead-lettered twice, no valid record dead-lettered

    for (const c of cases) {
      const bad = c.sent.filter((r) => r.reason);
      const good = c.sent.filter((r) => !r.reason);
      // One partition per topic: the bad records really sat between the valid ones.
      expect(new Set(c.sent.map((r) => r.partition)).size).toBe(1);

      const mine = letters.filter((l) => l.sourceTopic === c.topic);
      const byOffset = new Map(mine.map((l) => [l.offset, l]));
      for (const b of bad) {
        const letter = byOffset.get(b.offset);
        expect(letter, `dead letter for ${c.topic} offset ${b.offset}`).toBeDefined();
        expect(letter!.reason).toBe(b.reason);
        expect(letter!.partition).toBe(b.partition);
        expect(letter!.function).toBe(c.fn);
        expect(String(letter!.error).length).toBeGreaterThan(0);
        // The original bytes travel with the letter, so nothing is lost.
        expect(Buffer.from(letter!.value as string, 'base64').equals(Buffer.from(b.value))).toBe(true);
        expect(Buffer.from(letter!.key as string, 'base64').toString()).toBe(KEY);
      }

      const ids = good.map((g) => g.id!);
      const applied = await eventually(async () => ((await c.applied(ids)) === ids.length ? ids.length : undefined), {
        what: `${c.topic}: ${ids.length} valid records applied`,
        timeoutMs: 30_000,
      });
      // Count in = applied + dead-lettered: nothing lost, nothing counted twice.
      expect(applied + mine.length).toBe(c.sent.length);
    }
    const schemaLetter = letters.find((l) => l.reason === 'invalid-schema' && String(l.error).includes('ts'));
    expect(schemaLetter?.error).toMatch(/ts: /);
  });
});
