/**
 * Served lists and attribution end to end, on the real broker and DynamoDB Local: answers carry a
 * recommendationId and the listener's variant; their served-list lines travel through the log
 * subscription, the recorder and served-lists to the attributor; plays are attributed explicitly
 * (naming the answer) and implicitly (an item it showed); a redelivered batch adds nothing; a bad
 * recommendationId is refused at ingest and an unknown one is attributed implicitly; forgetting a
 * listener removes their served lists.
 */
import type { MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LISTENERS, demoCatalog, demoEvents } from '../../local/demo.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { buildMskEvent, localClusterArn, toMskRecord } from '../../local/runtime/msk-event.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import {
  type CounterRow,
  type ExperimentsStore,
  readCounters,
  servedListsSince,
} from '../../shared/adapters/dynamodb/experiments.ts';
import { RequestCounter } from '../../shared/adapters/dynamodb/stores.ts';
import { HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { variantOf } from '../../shared/domain/experiments/variants.ts';
import { experiments } from '../../shared/topology.ts';
import { readTopic } from '../../tools/chaos/topic-reader.ts';
import {
  apiRequest as api,
  eventually,
  provisionedTestEnv,
  startTestPipeline,
  type TestEnv,
} from '../support/infra.ts';

const VARIANTS = [
  { name: 'control', from: 0, to: 500 },
  { name: 'popular', from: 500, to: 1000, ranking: { genreBlend: 1, popularityPrior: 1 }, session: false },
];
const experiment = { salt: experiments.salt, buckets: experiments.buckets, variants: VARIANTS };
const NOW = Date.now();

interface Answer {
  recommendationId: string;
  variant: string;
  strategy: string;
  items: { trackId: string }[];
}

const sum = (rows: readonly CounterRow[], field: string, pick: (r: CounterRow) => boolean = () => true) =>
  rows.filter(pick).reduce((a, r) => a + (r.fields[field] ?? 0), 0);

describe('served lists and attribution', () => {
  let t: TestEnv;
  let pipeline: LocalPipeline;
  let store: ExperimentsStore;

  const counters = () => readCounters(store, Math.floor(NOW / HOUR_MS) - 1, Math.floor(NOW / HOUR_MS) + 2);
  const recommend = async (userId: string) => {
    const r = await api(pipeline, 'GET', `/users/${userId}/recommendations?limit=10`);
    expect(r.status).toBe(200);
    return r.body as unknown as Answer;
  };
  const play = (userId: string, trackId: string, extra: Record<string, unknown> = {}) => ({
    userId,
    trackId,
    type: 'play',
    ts: Date.now(),
    ...extra,
  });
  const countersReach = (field: string, n: number, pick?: (r: CounterRow) => boolean) =>
    eventually(
      async (seen) => {
        const rows = await counters();
        const got = sum(rows, field, pick);
        seen({ [field]: got });
        return got >= n ? rows : undefined;
      },
      { what: `${field} ≥ ${n}` },
    );

  beforeAll(async () => {
    t = await provisionedTestEnv('attribution');
    pipeline = await startTestPipeline(t, { env: { RANKING_VARIANTS: JSON.stringify(VARIANTS) } });
    store = {
      client: createDocumentClient({ endpoint: t.dynamodbEndpoint, region: 'us-east-1' }),
      servedTable: t.topology.tableNames.servedLists,
      countersTable: t.topology.tableNames.experimentCounters,
      counter: new RequestCounter(),
    };
    expect((await api(pipeline, 'POST', '/tracks', { tracks: demoCatalog() })).status).toBe(202);
    const events = demoEvents(NOW - 3 * 3_600_000);
    expect((await api(pipeline, 'POST', '/events', { events })).status).toBe(202);
    for (const userId of Object.keys(DEMO_LISTENERS)) {
      const n = events.filter((e) => e.userId === userId).length;
      await eventually(
        async (seen) => {
          const r = await api(pipeline, 'GET', `/users/${userId}/profile`);
          const got = r.status === 200 ? (r.body.counts as { events: number }).events : 0;
          seen(got);
          return got >= n ? true : undefined;
        },
        { what: `${userId} profile with ${n} events` },
      );
    }
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it("answers name themselves and the listener's variant; the variant is the bucket's, in the profile too", async () => {
    for (const userId of Object.keys(DEMO_LISTENERS)) {
      const a = await recommend(userId);
      expect(a.recommendationId).toMatch(/^r[0-9a-z]{19}$/);
      expect(a.variant).toBe(variantOf(userId, experiment).name);
      const profile = await api(pipeline, 'GET', `/users/${userId}/profile`);
      expect(profile.body.variant).toBe(a.variant);
    }
    const names = new Set(Object.keys(DEMO_LISTENERS).map((u) => variantOf(u, experiment).name));
    expect(names.size, 'the demo listeners fall in both variants').toBe(2);
  });

  it('a served list is recorded, then plays count for it: explicitly, implicitly, an unknown id implicitly', async () => {
    const userId = 'demo-ana';
    const before = await counters();
    const a = await recommend(userId);
    await eventually(
      async () =>
        (await servedListsSince(store, userId, NOW - HOUR_MS)).some((l) => l.id === a.recommendationId)
          ? true
          : undefined,
      { what: 'the served list stored' },
    );
    const mine = (r: CounterRow) => r.key.variant === a.variant && r.key.route === 'recommendations';
    const base = {
      hits: sum(before, 'hits', mine),
      explicit: sum(before, 'explicit', mine),
      p3: sum(before, 'p3', mine),
    };
    expect(sum(await counters(), 'served', mine)).toBeGreaterThan(sum(before, 'served', mine));

    // Explicit: the third item, naming the answer.
    const third = a.items[2]!.trackId;
    let r = await api(pipeline, 'POST', '/events', {
      events: [play(userId, third, { recommendationId: a.recommendationId })],
    });
    expect(r.status).toBe(202);
    let rows = await countersReach('hits', base.hits + 1, mine);
    expect(sum(rows, 'explicit', mine)).toBe(base.explicit + 1);
    expect(sum(rows, 'p3', mine)).toBe(base.p3 + 1);

    // Implicit: the fifth item, no id; then the sixth with a well-formed id nobody served.
    r = await api(pipeline, 'POST', '/events', { events: [play(userId, a.items[4]!.trackId)] });
    expect(r.status).toBe(202);
    r = await api(pipeline, 'POST', '/events', {
      events: [play(userId, a.items[5]!.trackId, { recommendationId: 'r000000000zzzzzzzzzz' })],
    });
    expect(r.status).toBe(202);
    rows = await countersReach('hits', base.hits + 3, mine);
    expect(sum(rows, 'explicit', mine), 'the unknown id counted implicitly').toBe(base.explicit + 1);
    expect(sum(rows, 'p5', mine)).toBeGreaterThanOrEqual(1);

    // A track nobody served counts as a play, not a hit.
    const all = (x: CounterRow) => x.key.route === '*' && x.key.variant === a.variant;
    const plays = sum(rows, 'plays', all);
    r = await api(pipeline, 'POST', '/events', { events: [play(userId, 'trk-never-served')] });
    rows = await countersReach('plays', plays + 1, all);
    expect(sum(rows, 'hits', mine)).toBe(base.hits + 3);
    expect(sum(rows, 'recPlays', all)).toBeGreaterThanOrEqual(3);
  });

  it('a malformed recommendationId is refused with the field named', async () => {
    const r = await api(pipeline, 'POST', '/events', {
      events: [play('demo-ana', 'trk-x', { recommendationId: 'not-an-id' })],
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('recommendationId');
  });

  it('a redelivered batch counts nothing twice', async () => {
    const rows = await counters();
    // Every record of listen-events and served-lists, delivered to the attributor again as one batch per topic.
    const { attribute } = await import('../../functions/recommendation-attributor/handler.ts');
    for (const topic of [t.topology.topicNames.servedLists, t.topology.topicNames.listenEvents]) {
      const event = await wholeTopicAsEvent(topic);
      await attribute(event);
    }
    const again = await counters();
    for (const f of ['served', 'hits', 'hitLists', 'plays', 'recPlays', 'explicit'])
      expect(sum(again, f), f).toBe(sum(rows, f));
  });

  it('forgetting a listener removes their served lists', async () => {
    const userId = 'demo-ben';
    const a = await recommend(userId);
    await eventually(
      async () =>
        (await servedListsSince(store, userId, 0)).some((l) => l.id === a.recommendationId) ? true : undefined,
      { what: 'the served list stored' },
    );
    const r = await api(pipeline, 'DELETE', `/users/${userId}`);
    expect(r.status).toBe(200);
    expect((r.body.deleted as { servedLists: number }).servedLists).toBeGreaterThanOrEqual(1);
    expect(await servedListsSince(store, userId, 0)).toEqual([]);
  });

  async function wholeTopicAsEvent(topic: string): Promise<MSKEvent> {
    const records = (await readTopic(t.kafka(), topic)).map((r) => toMskRecord(topic, r.partition, r.message));
    return buildMskEvent(records, { eventSourceArn: localClusterArn(), bootstrapServers: t.kafkaBrokers.join(',') });
  }
});
