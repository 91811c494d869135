/**
 * The session in the profile (issue #22, item 1), end to end on the real broker and DynamoDB
 * Local: plays posted through POST /events, out of time order and with a client's retry, show in
 * GET /users/{id}/profile's `recent` newest first with their catalog names; the same records
 * delivered to the profile-updater again, and the same event produced again at a new offset, do
 * not appear twice. The recommendation's one BatchGet carries the session to the ranking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { invokeFunction } from '../../local/runtime/functions.ts';
import { buildMskEvent, toMskRecord } from '../../local/runtime/msk-event.ts';
import { getProfileAndCandidates } from '../../shared/adapters/dynamodb/candidates.ts';
import { createStores } from '../../shared/adapters/dynamodb/stores.ts';
import { readTopic } from '../../tools/chaos/topic-reader.ts';
import { schemas } from '../../tools/openapi.ts';
import {
  apiRequest as api,
  eventually,
  provisionedTestEnv,
  startTestPipeline,
  type TestEnv,
} from '../support/infra.ts';

const USER = 'recent-listener';
const MIN = 60_000;
const NOW = Date.now();

const TRACKS = [1, 2, 3].map((n) => ({
  trackId: `trk-session-${n}`,
  title: `Session Track ${n}`,
  artistId: 'art-session',
  artistName: 'The Session Band',
  genres: ['jazz'],
}));
const ARTIST = { artistId: 'art-session-solo', name: 'Solo Session', genres: ['soul'] };

interface Listen {
  trackId: string | null;
  artistId: string | null;
  title: string | null;
  artistName: string | null;
  ts: number;
  type: string;
}

describe('the session in the profile', () => {
  let t: TestEnv;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    t = await provisionedTestEnv('recent-listens');
    pipeline = await startTestPipeline(t);
    const res = await api(pipeline, 'POST', '/tracks', { tracks: [...TRACKS, ARTIST] });
    expect(res.status).toBe(202);
    await eventually(
      async (seen) => {
        const r = await api(pipeline, 'GET', `/tracks/${TRACKS.at(-1)!.trackId}`);
        seen(r.status);
        return r.status === 200 ? true : undefined;
      },
      { what: 'catalog loaded' },
    );
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** The profile once it has folded at least `events` events (its count only grows). */
  const profileWithEvents = (events: number) =>
    eventually(
      async (seen) => {
        const r = await api(pipeline, 'GET', `/users/${USER}/profile`);
        const body = r.status === 200 ? r.body : undefined;
        const folded = (body?.counts as { events: number } | undefined)?.events;
        seen({ status: r.status, events: folded, recent: (body?.recent as Listen[] | undefined)?.map((l) => l.ts) });
        return body && folded !== undefined && folded >= events ? body : undefined;
      },
      { what: `${USER} profile with ${events} events` },
    );

  it('shows posted plays newest first, with names, each once however often it was delivered', async () => {
    const play = (n: number, minutesAgo: number, extra: Record<string, unknown> = {}) => ({
      eventId: `session-e${n}`,
      userId: USER,
      trackId: TRACKS[(n - 1) % 3]!.trackId,
      artistId: 'art-session',
      ts: NOW - minutesAgo * MIN,
      type: 'play',
      ...extra,
    });
    const e1 = play(1, 12);
    const e2 = play(2, 9);
    const e3 = play(3, 6);
    const like = {
      eventId: 'session-e4',
      userId: USER,
      artistId: ARTIST.artistId,
      ts: NOW - 3 * MIN,
      type: 'like',
    };
    // Out of time order, and e2 twice in the same request (a client that retried).
    const res = await api(pipeline, 'POST', '/events', { events: [e3, e1, like, e2, e2] });
    expect(res.status).toBe(202);

    const first = await profileWithEvents(4);
    const want: Listen[] = [
      {
        trackId: null,
        artistId: ARTIST.artistId,
        title: null,
        artistName: ARTIST.name,
        ts: like.ts,
        type: 'like',
      },
      ...[e3, e2, e1].map((e) => ({
        trackId: e.trackId,
        artistId: 'art-session',
        title: TRACKS.find((tr) => tr.trackId === e.trackId)!.title,
        artistName: 'The Session Band',
        ts: e.ts,
        type: 'play',
      })),
    ];
    expect(first.recent).toEqual(want);
    expect((first.counts as { events: number }).events).toBe(4);
    // The answer has the documented shape (openapi.json is generated from this schema).
    expect(() => schemas.Profile.parse(first)).not.toThrow();

    // The records the trigger consumed, delivered to it again (an event source mapping retry) …
    const consumed = (await readTopic(t.kafka(), t.topology.topicNames.listenEvents)).filter(
      (r) => r.message.key?.toString() === USER,
    );
    expect(consumed.length).toBeGreaterThanOrEqual(4);
    await invokeFunction(
      'profile-updater',
      buildMskEvent(
        consumed.map((r) => toMskRecord(r.topic, r.partition, r.message)),
        {
          eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/test',
          bootstrapServers: t.kafkaBrokers.join(','),
        },
      ),
    );
    // … and e3 produced again straight to Kafka, at a new offset (a producer's retry), followed
    // on the same partition by one new play: once that is folded, the duplicate has been seen.
    const producer = t.kafka().producer();
    await producer.connect();
    const e5 = play(5, 1);
    await producer.send({
      topic: t.topology.topicNames.listenEvents,
      messages: [e3, e5].map((e) => ({ key: USER, value: JSON.stringify({ ...e, v: 1 }) })),
    });
    await producer.disconnect();

    const after = await profileWithEvents(5);
    expect((after.counts as { events: number }).events).toBe(5);
    const recent = after.recent as Listen[];
    expect(recent.map((l) => l.ts)).toEqual([e5.ts, like.ts, e3.ts, e2.ts, e1.ts]);
    expect(recent[0]).toEqual({ ...want[1]!, trackId: e5.trackId, title: 'Session Track 2', ts: e5.ts });
    expect(recent.slice(1)).toEqual(want);

    // What the ranking reads: the profile and candidate set in one request, the session inside.
    const stores = createStores({ endpoint: t.dynamodbEndpoint, region: 'us-east-1' }, t.topology.tableNames);
    try {
      const { profile } = await getProfileAndCandidates(stores, USER);
      expect(stores.counter.reads).toBe(1);
      expect(profile?.recent.map((l) => [l.trackId, l.artistId, l.ts, l.type])).toEqual(
        recent.map((l) => [l.trackId ?? undefined, l.artistId, l.ts, l.type]),
      );
    } finally {
      stores.client.destroy();
    }
  });
});
