/**
 * The dashboard-stats function's pure parts: events as the page shows them, the filters and the
 * cursor, the genre mix, the answers over any sources (routes, validation, headers); and the
 * cloud sources' mapping of archive lines and CloudWatch results.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  healthFromMetrics,
  metricQueries,
  onePerEvent,
  parseArchiveObject,
  streamSeq,
} from '../../../functions/dashboard-stats/cloud-sources.ts';
import {
  catalogIdsOf,
  type DashboardSources,
  dashboardStats,
  filterStream,
  GENRE_WINDOW_MS,
  genreMix,
  toStreamEvent,
} from '../../../functions/dashboard-stats/dashboard.ts';
import type { Health, StreamEvent } from '../../../functions/dashboard-stats/types.ts';
import type { CatalogItem } from '../../../shared/domain/catalog/catalog.ts';
import type { ListenEventV1 } from '../../../shared/domain/events/events.ts';
import { triggers } from '../../../shared/topology.ts';

const T = Date.UTC(2026, 11, 2, 1, 0, 0);
let nextId = 0;
const line = (o: Record<string, unknown>) => JSON.stringify({ v: 1, eventId: `e${nextId++}`, ...o, _offset: 7 });
const listen = (o: Partial<ListenEventV1>): ListenEventV1 => ({
  eventId: `e${nextId++}`,
  userId: 'u1',
  trackId: 't1',
  ts: T,
  type: 'play',
  ...o,
});
const shown = (e: ListenEventV1, seq: number, receivedAt = T): StreamEvent =>
  toStreamEvent(e, { seq, receivedAt }, new Map());

describe('events as the page shows them', () => {
  const catalog = new Map<string, CatalogItem>([
    ['t#t1', { itemId: 't#t1', kind: 'track', name: 'Alison', artistName: 'Slowdive', primaryGenre: 'shoegaze' }],
    ['a#a2', { itemId: 'a#a2', kind: 'artist', name: 'Miles Davis', genres: { jazz: 0.9, 'hard-bop': 0.4 } }],
  ] as [string, CatalogItem][]);

  it('names from the event, else the catalog track; genre from the track, else its artist', () => {
    const withTrack = toStreamEvent(listen({ trackId: 't1', artistId: 'a1' }), { seq: 1, receivedAt: T }, catalog);
    expect(withTrack).toMatchObject({ title: 'Alison', artistName: 'Slowdive', genre: 'shoegaze', type: 'play' });
    const named = toStreamEvent(listen({ trackName: 'Own', artistName: 'Names' }), { seq: 2, receivedAt: T }, catalog);
    expect(named).toMatchObject({ title: 'Own', artistName: 'Names', genre: 'shoegaze' });
    // A track the catalog lacks shows its artist's strongest genre.
    const byArtist = toStreamEvent(listen({ trackId: 'tX', artistId: 'a2' }), { seq: 3, receivedAt: T }, catalog);
    expect(byArtist).toMatchObject({ title: null, genre: 'jazz' });
    const notice = toStreamEvent(listen({}), { seq: 4, receivedAt: T }, catalog, 'playing_now');
    expect(notice.type).toBe('playing_now');
    expect(catalogIdsOf([listen({ trackId: 't1', artistId: 'a1' }), listen({ trackId: 't1' })])).toEqual([
      't#t1',
      'a#a1',
    ]);
  });

  it('filters after the cursor, by user/type/country, newest first; the cursor never moves back', () => {
    const a = shown(listen({ userId: 'u1', type: 'play', country: 'GB' }), 10);
    const b = shown(listen({ userId: 'u1', type: 'skip' }), 11);
    const c = shown(listen({ userId: 'u2' }), 12);
    const all = [a, b, c];
    const base = { since: 0, limit: 100 } as const;
    expect(filterStream(all, base).events.map((e) => e.seq)).toEqual([12, 11, 10]);
    expect(filterStream(all, base).cursor).toBe(12);
    expect(filterStream(all, { ...base, since: 10 }).events).toHaveLength(2);
    expect(filterStream(all, { ...base, user: 'u1', type: 'skip' }).events).toEqual([b]);
    expect(filterStream(all, { ...base, country: 'gb' }).events).toEqual([a]);
    expect(filterStream(all, { ...base, limit: 1 }).events).toEqual([c]);
    // Nothing new: the cursor stays where the caller was.
    expect(filterStream([], { ...base, since: 42 })).toEqual({ cursor: 42, events: [] });
  });

  it('counts the genre window by genre (unknown too), with the most played tracks', () => {
    const e = (genre: string | null, trackId: string | null) => ({
      receivedAt: T,
      genre,
      trackId,
      title: trackId && `title ${trackId}`,
      artistName: null,
    });
    const mix = genreMix([e('rock', 't1'), e('rock', 't2'), e('rock', 't2'), e(null, 't3'), e('jazz', null)]);
    expect(mix).toEqual([
      {
        genre: 'rock',
        count: 3,
        topTracks: [
          { trackId: 't2', title: 'title t2', artistName: null, plays: 2 },
          { trackId: 't1', title: 'title t1', artistName: null, plays: 1 },
        ],
      },
      { genre: 'unknown', count: 1, topTracks: [{ trackId: 't3', title: 'title t3', artistName: null, plays: 1 }] },
      { genre: 'jazz', count: 1, topTracks: [] },
    ]);
  });
});

describe('the function over its sources', () => {
  const health: Health = {
    totalEvents: 3,
    eventsPerSecond: 0.05,
    rateSeries: [0, 3],
    triggers: [],
    deadLetters: { count: 0, byReason: {}, latest: [] },
    errors: [],
  };
  const events = [shown(listen({ platform: 'web' }), 1), shown(listen({ type: 'like' }), 2)];
  let windowFrom = 0;
  const sources: DashboardSources = {
    metrics: { health: async () => health },
    stream: {
      recent: async () => events,
      receivedSince: async (from) => {
        windowFrom = from;
        return events;
      },
      facets: async () => ({ platforms: ['web'], countries: [] }),
    },
    experiments: { counters: async () => [] },
  };
  const answer = dashboardStats(sources);
  const get = (rawPath: string, query?: Record<string, string>) =>
    answer({ rawPath, queryStringParameters: query } as unknown as APIGatewayProxyEventV2);

  it('GET /api/stats: the health, the genre mix of the window and the facets, never cached', async () => {
    const before = Date.now();
    const res = await get('/api/stats');
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['cache-control']).toBe('no-store');
    const body = JSON.parse(res.body as string);
    expect(body).toMatchObject({
      ...health,
      genreWindowSeconds: GENRE_WINDOW_MS / 1000,
      facets: { platforms: ['web'] },
    });
    expect(body.genres).toEqual([
      { genre: 'unknown', count: 2, topTracks: [{ trackId: 't1', title: null, artistName: null, plays: 2 }] },
    ]);
    expect(body.now - windowFrom).toBe(GENRE_WINDOW_MS);
    expect(body.now).toBeGreaterThanOrEqual(before);
  });

  it('GET /api/stream: filtered, with the API error shape for a bad query', async () => {
    const res = await get('/api/stream', { type: 'like' });
    expect(JSON.parse(res.body as string)).toEqual({ cursor: 2, events: [events[1]] });
    const bad = await get('/api/stream', { since: '-3', type: 'scrobble' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body as string).errors.map((e: { path: string }) => e.path)).toEqual(['since', 'type']);
    expect((await get('/api/other')).statusCode).toBe(404);
  });
});

describe('cloud: archive objects → stream', () => {
  it('one listen per valid JSON line, cursor from write time and line, junk skipped', () => {
    const body = [
      line({ userId: 'u1', trackId: 't1', ts: T - 5, type: 'play', platform: 'ios', country: 'GB' }),
      'not json',
      line({ trackId: 't2', ts: T, type: 'play' }), // no userId: not an event
      line({ userId: 'u2', artistId: 'a1', ts: T - 1, type: 'like' }),
      '',
    ].join('\n');
    const listens = parseArchiveObject(body, T);
    expect(listens.map((l) => [l.event.userId, l.seq, l.event.type, l.event.trackId, l.event.platform])).toEqual([
      ['u1', streamSeq(T, 0), 'play', 't1', 'ios'],
      ['u2', streamSeq(T, 3), 'like', undefined, undefined],
    ]);
    expect(listens[0]!.receivedAt).toBe(T);
    // Later objects sort after earlier ones whatever their line counts.
    expect(streamSeq(T + 1, 0)).toBeGreaterThan(streamSeq(T, 999));
    expect(Number.isSafeInteger(streamSeq(T, 999))).toBe(true);
  });

  it('shows each listen once, by eventId (the first arrival)', () => {
    const again = JSON.stringify({ eventId: 'dup', userId: 'u1', trackId: 't1', ts: T, type: 'play' });
    const first = parseArchiveObject(again, T);
    const second = parseArchiveObject(
      [line({ userId: 'u2', trackId: 't2', ts: T, type: 'play' }), again].join('\n'),
      T + 5,
    );
    const once = onePerEvent([...second, ...first]);
    expect(once.map((l) => [l.event.eventId === 'dup', l.seq])).toEqual([
      [true, streamSeq(T, 0)],
      [false, streamSeq(T + 5, 0)],
    ]);
  });
});

describe('cloud: CloudWatch → health', () => {
  const names = { 'ingest-events': 'fn-ingest', 'profile-updater': 'fn-profile', 'event-archiver': 'fn-archiver' };

  it('queries the ingest rate, lag and dead letters per trigger, errors per function', () => {
    const q = metricQueries(names, 'tunestream/dev', 'tunestream');
    const ids = q.map((x) => x.Id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9_]*$/); // GetMetricData's id rule
    expect(q[0]?.MetricStat?.Metric).toMatchObject({
      Namespace: 'tunestream/dev',
      MetricName: 'EventsAccepted',
      Dimensions: [
        { Name: 'service', Value: 'tunestream' },
        { Name: 'function', Value: 'ingest-events' },
      ],
    });
    const lag = q.filter((x) => x.MetricStat?.Metric?.MetricName === 'OffsetLag');
    // Only triggers whose deployed name is known (profile-updater, event-archiver here).
    expect(lag.map((x) => x.MetricStat?.Metric?.Dimensions?.[0]?.Value).sort()).toEqual(['fn-archiver', 'fn-profile']);
    expect(q.filter((x) => x.MetricStat?.Metric?.MetricName === 'DeadLettered')).toHaveLength(triggers.length);
    expect(q.filter((x) => x.MetricStat?.Metric?.MetricName === 'Errors')).toHaveLength(3);
  });

  it('maps results to the Health the page reads (per-second rates, oldest first)', () => {
    const profileIndex = triggers.findIndex((t) => t.function === 'profile-updater');
    const health = healthFromMetrics(
      [
        { Id: 'accepted', Values: [120, 60, 0] }, // newest first
        { Id: `lag${profileIndex}`, Values: [42] },
        { Id: `dead${profileIndex}`, Values: [1, 2] },
        { Id: 'err1', Values: [3], Timestamps: [new Date(T)] },
      ],
      names,
      T + 1000,
    );
    expect(health.totalEvents).toBe(180);
    expect(health.eventsPerSecond).toBe(2);
    expect(health.rateSeries).toEqual([0, 1, 2]);
    const profile = health.triggers.find((t) => t.function === 'profile-updater')!;
    expect(profile).toMatchObject({ totalLag: 42, deadLettered: 3 });
    expect(health.deadLetters.count).toBe(3);
    expect(health.errors).toEqual([{ at: T, source: 'profile-updater', message: '3 errors in 15 min' }]);
  });
});
