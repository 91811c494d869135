/**
 * The cloud dashboard endpoints' pure parts: archive lines → stream events and cursor, the
 * dashboard's filters, the CloudWatch queries and their mapping to the Stats shape the page reads.
 */
import { describe, expect, it } from 'vitest';
import {
  filterStream,
  metricQueries,
  parseArchiveObject,
  statsBody,
  streamSeq,
} from '../../../functions/dashboard-stats/handler.ts';
import { triggers } from '../../../shared/topology.ts';

const T = Date.UTC(2026, 11, 2, 1, 0, 0);
const line = (o: Record<string, unknown>) => JSON.stringify({ v: 1, eventId: 'e', ...o, _offset: 7 });

describe('archive objects → stream', () => {
  it('one event per JSON line, cursor from write time and line, junk skipped', () => {
    const body = [
      line({ userId: 'u1', trackId: 't1', ts: T - 5, type: 'play', platform: 'ios', country: 'GB' }),
      'not json',
      line({ trackId: 't2', ts: T }), // no userId: not an event
      line({ userId: 'u2', artistId: 'a1', ts: T - 1, type: 'like' }),
      '',
    ].join('\n');
    const events = parseArchiveObject(body, T);
    expect(events.map((e) => [e.userId, e.seq, e.type, e.trackId, e.platform])).toEqual([
      ['u1', streamSeq(T, 0), 'play', 't1', 'ios'],
      ['u2', streamSeq(T, 3), 'like', null, null],
    ]);
    // Later objects sort after earlier ones whatever their line counts.
    expect(streamSeq(T + 1, 0)).toBeGreaterThan(streamSeq(T, 999));
    expect(Number.isSafeInteger(streamSeq(T, 999))).toBe(true);
  });

  it('filters like the local runtime: after the cursor, by user/type/country, newest first', () => {
    const a = parseArchiveObject(line({ userId: 'u1', trackId: 't1', ts: 1, type: 'play', country: 'GB' }), T);
    const b = parseArchiveObject(
      [line({ userId: 'u1', trackId: 't1', ts: 2, type: 'skip' }), line({ userId: 'u2', ts: 3, trackId: 't9' })].join(
        '\n',
      ),
      T + 1000,
    );
    const all = [...a, ...b];
    const base = { since: 0, limit: 100 } as const;
    expect(filterStream(all, base).events.map((e) => e.seq)).toEqual([b[1]!.seq, b[0]!.seq, a[0]!.seq]);
    expect(filterStream(all, base).cursor).toBe(b[1]!.seq);
    expect(filterStream(all, { ...base, since: a[0]!.seq }).events).toHaveLength(2);
    expect(filterStream(all, { ...base, user: 'u1', type: 'skip' }).events).toEqual([b[0]]);
    expect(filterStream(all, { ...base, country: 'gb' }).events).toEqual([a[0]]);
    // Nothing new: the cursor stays where the caller was.
    expect(filterStream([], { ...base, since: 42 })).toEqual({ cursor: 42, events: [] });
  });
});

describe('CloudWatch → stats', () => {
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

  it('maps results to the dashboard Stats shape (per-second rates, oldest first)', () => {
    const profileIndex = triggers.findIndex((t) => t.function === 'profile-updater');
    const events = parseArchiveObject(line({ userId: 'u1', trackId: 't1', ts: 1, type: 'play', platform: 'web' }), T);
    events[0]!.genre = 'rock';
    const body = statsBody(
      [
        { Id: 'accepted', Values: [120, 60, 0] }, // newest first
        { Id: `lag${profileIndex}`, Values: [42] },
        { Id: `dead${profileIndex}`, Values: [1, 2] },
        { Id: 'err1', Values: [3], Timestamps: [new Date(T)] },
      ],
      names,
      events,
      T + 1000,
    );
    expect(body.totalEvents).toBe(180);
    expect(body.eventsPerSecond).toBe(2);
    expect(body.rateSeries).toEqual([0, 1, 2]);
    const profile = body.triggers.find((t) => t.function === 'profile-updater')!;
    expect(profile).toMatchObject({ totalLag: 42, deadLettered: 3 });
    expect(body.deadLetters.count).toBe(3);
    expect(body.errors).toEqual([{ at: T, source: 'profile-updater', message: '3 errors in 15 min' }]);
    expect(body.genres).toEqual([
      { genre: 'rock', count: 1, topTracks: [{ trackId: 't1', title: null, artistName: null, plays: 1 }] },
    ]);
    expect(body.facets).toEqual({ platforms: ['web'], countries: [] });
  });
});
