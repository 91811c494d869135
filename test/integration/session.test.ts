/**
 * Answers that follow the session, end to end on the real broker and DynamoDB Local: the demo
 * world through the HTTP API, an item model build, then demo-ana (shoegaze and indie) plays Miles
 * Davis three times — through Kafka, the profile updater and nothing else: the very next
 * recommendation and the radio turn to jazz, with no neighbour refresh or candidate rebuild in
 * between. Also the similar-item routes and the new parameters' errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LISTENERS, demoCatalog, demoEvents } from '../../local/demo.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import {
  apiRequest as api,
  eventually,
  provisionedTestEnv,
  startTestPipeline,
  type TestEnv,
} from '../support/infra.ts';

interface Item {
  trackId: string;
  artistId: string | null;
  genres: Record<string, number>;
  reasons: string[];
}

const NOW = Date.now();
const catalog = demoCatalog();
const JAZZ_ARTIST = 'art-miles-davis';

/** An answer item from the session's neighbourhood: pulled in by the plays, or jazz. */
const fromSession = (i: Item) =>
  i.reasons.some((r) => r.startsWith('because you just played')) || (i.genres.jazz ?? 0) > 0;

describe('answers that follow the session', () => {
  let t: TestEnv;
  let pipeline: LocalPipeline;

  const eventsOf = async (userId: string) => {
    const r = await api(pipeline, 'GET', `/users/${userId}/profile`);
    return r.status === 200 ? (r.body.counts as { events: number }).events : 0;
  };

  beforeAll(async () => {
    t = await provisionedTestEnv('session');
    pipeline = await startTestPipeline(t);
    expect((await api(pipeline, 'POST', '/tracks', { tracks: catalog })).status).toBe(202);
    await eventually(
      async () =>
        (await api(pipeline, 'GET', `/tracks/${catalog.at(-1)!.trackId}`)).status === 200 ? true : undefined,
      { what: 'catalog loaded' },
    );
    // A week of history, an hour old at the newest: no session yet for anyone.
    const events = demoEvents(NOW - 3_600_000);
    expect((await api(pipeline, 'POST', '/events', { events })).status).toBe(202);
    for (const userId of Object.keys(DEMO_LISTENERS)) {
      const n = events.filter((e) => e.userId === userId).length;
      await eventually(
        async (seen) => {
          const got = await eventsOf(userId);
          seen(got);
          return got >= n ? true : undefined;
        },
        { what: `${userId} profile with ${n} events` },
      );
    }
    await pipeline.schedules.runNow('item-model-builder');
    await eventually(
      async (seen) => {
        const r = await api(pipeline, 'GET', '/users/demo-ana/recommendations?limit=10');
        seen(r.body.strategy);
        return r.body.strategy === 'collaborative' ? true : undefined;
      },
      { what: "demo-ana's candidate set" },
    );
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('turns the next recommendation and the radio to what was just played', async () => {
    const before = await api(pipeline, 'GET', '/users/demo-ana/recommendations?limit=10');
    expect(before.body.session).toBeNull();
    const jazzBefore = (before.body.items as Item[]).filter(fromSession).length;

    const eventsBefore = await eventsOf('demo-ana');
    const plays = [1, 2, 3].map((n, i) => ({
      userId: 'demo-ana',
      trackId: `trk-miles-davis-${n}`,
      artistId: JAZZ_ARTIST,
      ts: Date.now() - (3 - i) * 60_000,
      type: 'play',
    }));
    expect((await api(pipeline, 'POST', '/events', { events: plays })).status).toBe(202);
    const profile = await eventually(
      async (seen) => {
        const r = await api(pipeline, 'GET', '/users/demo-ana/profile');
        const events = (r.body.counts as { events: number }).events;
        seen(events);
        return events >= eventsBefore + 3 ? r.body : undefined;
      },
      { what: 'the three plays in demo-ana profile' },
    );
    const recent = profile.recent as { trackId: string; type: string }[];
    expect(recent.slice(0, 3).map((r) => r.trackId)).toEqual([
      'trk-miles-davis-3',
      'trk-miles-davis-2',
      'trk-miles-davis-1',
    ]);

    // The very next request: no refresh, no rebuild in between.
    const after = await api(pipeline, 'GET', '/users/demo-ana/recommendations?limit=10');
    expect(after.status).toBe(200);
    const session = after.body.session as { strength: number; seeds: { trackId: string }[] };
    expect(session.strength).toBeGreaterThan(0.5);
    expect(session.seeds.map((s) => s.trackId).sort()).toEqual(plays.map((p) => p.trackId).sort());
    const items = after.body.items as Item[];
    expect(items).toHaveLength(10);
    expect(items.filter(fromSession).length).toBeGreaterThanOrEqual(Math.max(3, jazzBefore + 1));
    expect(items.some((i) => i.reasons.some((r) => r.startsWith('because you just played Miles Davis')))).toBe(true);
    const perArtist = new Map<string, number>();
    for (const i of items) perArtist.set(i.artistId ?? '', (perArtist.get(i.artistId ?? '') ?? 0) + 1);
    expect(Math.max(...perArtist.values())).toBeLessThanOrEqual(2);

    const radio = await api(pipeline, 'GET', '/users/demo-ana/radio?limit=10');
    expect(radio.status).toBe(200);
    expect(radio.body.basis).toBe('session');
    const up = radio.body.items as Item[];
    expect(up.filter(fromSession).length).toBeGreaterThanOrEqual(5);
    expect(up.map((i) => i.trackId)).not.toContain('trk-miles-davis-3');
    for (let k = 1; k < up.length; k++)
      if (up[k]!.artistId !== null) expect(up[k]!.artistId).not.toBe(up[k - 1]!.artistId);
  });

  it('seeds a radio with an item, answers similar items, and explains bad parameters', async () => {
    const seeded = await api(pipeline, 'GET', '/users/demo-ben/radio?seed=trk-slowdive-1&limit=5');
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ basis: 'seed', kind: 'track', seed: { trackId: 'trk-slowdive-1' } });
    expect((seeded.body.items as Item[]).map((i) => i.trackId)).not.toContain('trk-slowdive-1');
    const byArtist = await api(pipeline, 'GET', `/users/demo-ben/radio?seed=${JAZZ_ARTIST}&limit=5`);
    expect(byArtist.body).toMatchObject({ basis: 'seed', kind: 'artist' });

    const similar = await api(pipeline, 'GET', '/tracks/trk-miles-davis-1/similar?limit=5');
    expect(similar.status).toBe(200);
    const items = similar.body.items as Item[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.reasons.length > 0)).toBe(true);
    expect((await api(pipeline, 'GET', `/artists/${JAZZ_ARTIST}/similar`)).status).toBe(200);

    const unknown = await api(pipeline, 'GET', '/users/demo-ana/radio?seed=trk-nobody-ever');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('trk-nobody-ever');
    expect((await api(pipeline, 'GET', '/tracks/trk-nobody-ever/similar')).status).toBe(404);
    const tooMany = Array.from({ length: 101 }, (_, i) => `x${i}`).join(',');
    const bad = await api(pipeline, 'GET', `/users/demo-ana/recommendations?exclude=${tooMany}&maxPerArtist=0`);
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['exclude', 'maxPerArtist']);
    const badSeed = await api(pipeline, 'GET', '/users/demo-ana/radio?seed=two%20words');
    expect(badSeed.status).toBe(400);
    expect((badSeed.body.errors as { path: string }[]).map((e) => e.path)).toEqual(['seed']);
    const excluded = await api(
      pipeline,
      'GET',
      '/users/demo-ana/recommendations?limit=5&exclude=trk-slowdive-2,trk-ride-1',
    );
    expect((excluded.body.items as Item[]).map((i) => i.trackId)).not.toContain('trk-slowdive-2');
  });
});
