import { describe, expect, it } from 'vitest';
import type { ListenEventV1 } from '../../../../shared/domain/events/events.ts';
import type { GenreWeights } from '../../../../shared/domain/genres.ts';
import {
  applyRecords,
  buildProfile,
  DAY_MS,
  emptyProfile,
  fingerprintEventId,
  type Profile,
  type ProfileRecord,
  profileUpdateOf,
  type RecentListen,
  recentListens,
  scoresAt,
} from '../../../../shared/domain/profile/profile.ts';
import { rng } from '../../../../shared/random.ts';

const T0 = Date.UTC(2024, 0, 1);
const TRACK_GENRES: Record<string, GenreWeights> = {
  t0: { rock: 1 },
  t1: { indie: 0.6, shoegaze: 0.4 },
  t2: { techno: 1 },
  t3: { jazz: 0.5, soul: 0.5 },
  t4: { 'hip-hop': 1 },
};
const ctx = { genresOf: (e: ListenEventV1) => (e.trackId ? TRACK_GENRES[e.trackId] : undefined) };
const TYPES = ['play', 'play', 'play', 'skip', 'like', 'dislike'] as const;

function makeRecords(n: number, seed: number): ProfileRecord<ListenEventV1>[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    event: {
      eventId: `e${i}`,
      userId: 'u1',
      trackId: `t${Math.floor(r() * 6)}`, // t5 has no known genre
      artistId: `a${Math.floor(r() * 4)}`,
      ts: T0 + Math.floor(r() * 120 * DAY_MS),
      type: TYPES[Math.floor(r() * TYPES.length)]!,
      ...(r() < 0.5 ? { msPlayed: Math.floor(r() * 300_000), durationMs: 240_000 } : {}),
      ...(r() < 0.2 ? { mood: 'chill' } : {}),
    },
    topicPartition: `listen-events-${i % 3}`,
    offset: 1000 + i,
  }));
}

function shuffle<T>(a: T[], r: () => number): T[] {
  const out = a.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function expectMapsClose(a: Record<string, number>, b: Record<string, number>) {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  const scale = Math.max(1e-12, ...Object.values(a).map(Math.abs));
  for (const k of Object.keys(a)) expect(Math.abs(a[k]! - b[k]!) / scale).toBeLessThan(1e-9);
}

function expectSameProfile(a: Profile, b: Profile) {
  expect(a.anchorTs).toBe(b.anchorTs);
  expect(a.counts).toEqual(b.counts);
  expect(a.firstEventTs).toBe(b.firstEventTs);
  expect(a.lastEventTs).toBe(b.lastEventTs);
  expectMapsClose(a.genres, b.genres);
  expectMapsClose(a.moods, b.moods);
  expectMapsClose(a.topArtists, b.topArtists);
  expectMapsClose(a.topTracks, b.topTracks);
  // The session is exact, not merely close: the same entries in the same order.
  expect(a.recent).toEqual(b.recent);
}

/** The oracle: the `n` newest distinct events by (ts, fingerprint), computed from scratch. */
function newestListens(records: readonly ProfileRecord<ListenEventV1>[], n = 20): RecentListen[] {
  const byFp = new Map<number, ListenEventV1>();
  for (const { event } of records) {
    const fp = fingerprintEventId(event.eventId);
    if (!byFp.has(fp)) byFp.set(fp, event);
  }
  return [...byFp]
    .sort(([fa, a], [fb, b]) => b.ts - a.ts || fb - fa)
    .slice(0, n)
    .map(([fp, e]) => ({ trackId: e.trackId, artistId: e.artistId, ts: e.ts, type: e.type, fp }));
}

/** Applies `records` shuffled, in random batch sizes, with `redeliver` of them delivered twice. */
function replayShuffled(
  records: readonly ProfileRecord<ListenEventV1>[],
  r: () => number,
  opts: { redeliver?: number; recentEventIdsCapacity?: number; recentCapacity?: number } = {},
): Profile {
  const stream = shuffle([...records], r);
  for (let k = 0; k < (opts.redeliver ?? 0); k++) {
    // Delivered again a little later (within the 64 remembered eventIds, as a retry comes).
    const at = Math.floor(r() * stream.length);
    stream.splice(Math.min(stream.length, at + 1 + Math.floor(r() * 30)), 0, stream[at]!);
  }
  let p = emptyProfile('u1');
  let i = 0;
  while (i < stream.length) {
    const size = 1 + Math.floor(r() * 40);
    // A redelivered event comes at a new offset (a producer's retry), so only its eventId stops it.
    const batch = stream.slice(i, i + size).map((rec, j) => ({ ...rec, offset: i + j }));
    p = applyRecords(p, batch, { ...ctx, ...opts }).profile;
    i += size;
  }
  return p;
}

describe('applyRecords: decay', () => {
  it('equals the closed form Σ w·2^(−(anchor−t)/H)', () => {
    const p = buildProfile(
      'u',
      [
        { eventId: 'a', trackId: 't0', ts: T0, type: 'like' as const },
        { eventId: 'b', trackId: 't0', ts: T0 + 30 * DAY_MS, type: 'like' as const },
      ],
      ctx as never,
    );
    // The anchor is the start of the half-life window holding the latest event.
    expect(p.anchorTs % (30 * DAY_MS)).toBe(0);
    expect(p.anchorTs).toBeLessThanOrEqual(T0 + 30 * DAY_MS);
    expect(p.anchorTs).toBeGreaterThan(T0);
    expect(scoresAt(p, T0 + 30 * DAY_MS)['rock']).toBeCloseTo(2 + 2 * 0.5, 12);
    // 30 more days later everything halves.
    expect(scoresAt(p, T0 + 60 * DAY_MS)['rock']).toBeCloseTo(1.5, 12);
  });

  it('is independent of arrival order and batch split', () => {
    const records = makeRecords(300, 42);
    const reference = applyRecords(emptyProfile('u1'), records, ctx).profile;
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const perm = shuffle(records, r);
      let p = emptyProfile('u1');
      let i = 0;
      while (i < perm.length) {
        const size = 1 + Math.floor(r() * 40);
        // offsets must grow per partition across batches: renumber in arrival order
        const batch = perm.slice(i, i + size).map((rec, j) => ({ ...rec, offset: i + j }));
        p = applyRecords(p, batch, ctx).profile;
        i += size;
      }
      expectSameProfile(p, reference);
    }
    // in place gives the same result
    const inPlace = emptyProfile('u1');
    applyRecords(inPlace, records.slice(0, 150), { ...ctx, inPlace: true });
    applyRecords(inPlace, records.slice(150), { ...ctx, inPlace: true });
    expectSameProfile(inPlace, reference);
  });

  it('rescales when the anchor moves to a later window', () => {
    const a = buildProfile('u', [{ eventId: 'a', trackId: 't0', ts: T0, type: 'like' as const }], ctx as never);
    const b = applyRecords(
      a,
      [{ event: { eventId: 'b', trackId: 't0', ts: T0 + 90 * DAY_MS, type: 'like' as const } }],
      ctx as never,
    ).profile;
    expect(b.anchorTs).toBeGreaterThan(a.anchorTs);
    expect(scoresAt(b, T0 + 90 * DAY_MS)['rock']).toBeCloseTo(2 + 2 / 8, 12);
    expect(a.genres['rock']).toBe(scoresAt(a, a.anchorTs)['rock']); // input untouched
  });

  it('keeps negative scores raw and clamps at read time', () => {
    const p = buildProfile('u', [{ eventId: 'x', trackId: 't2', ts: T0, type: 'dislike' as const }], ctx as never);
    expect(p.genres['techno']).toBeLessThan(0);
    expect(scoresAt(p, T0)).toEqual({});
    expect(scoresAt(p, T0, { clamp: false })['techno']).toBeLessThan(0);
  });
});

describe('applyRecords: idempotency', () => {
  it('applying the same batch twice changes nothing and returns the same object', () => {
    const records = makeRecords(50, 1);
    const first = applyRecords(emptyProfile('u1'), records, ctx);
    expect(first.applied).toBe(50);
    expect(first.changed).toBe(true);
    expect(first.profile.version).toBe(1);
    const snapshot = structuredClone(first.profile);
    const second = applyRecords(first.profile, records, ctx);
    expect(second.changed).toBe(false);
    expect(second.applied).toBe(0);
    expect(second.skippedDuplicates).toBe(50);
    expect(second.profile).toBe(first.profile);
    expect(first.profile).toEqual(snapshot);
  });

  it('does not mutate its input', () => {
    const p0 = emptyProfile('u1');
    const before = structuredClone(p0);
    applyRecords(p0, makeRecords(10, 3), ctx);
    expect(p0).toEqual(before);
  });

  it('drops an event produced twice with different offsets', () => {
    const [rec] = makeRecords(1, 9);
    const a = applyRecords(emptyProfile('u1'), [rec!], ctx).profile;
    const dup = { ...rec!, offset: rec!.offset! + 500 };
    const b = applyRecords(a, [dup], ctx);
    expect(b.changed).toBe(false);
    expect(b.skippedDuplicates).toBe(1);
    // also within one batch
    const c = applyRecords(emptyProfile('u1'), [rec!, dup], ctx);
    expect(c.applied).toBe(1);
    expect(c.skippedDuplicates).toBe(1);
    expect(c.profile.counts.events).toBe(1);
  });

  it('records the highest offset per partition and bounds recent ids', () => {
    const records = makeRecords(100, 5);
    const p = applyRecords(emptyProfile('u1'), records, { ...ctx, recentEventIdsCapacity: 16 }).profile;
    expect(p.offsets).toEqual({ 'listen-events-0': 1099, 'listen-events-1': 1097, 'listen-events-2': 1098 });
    expect(p.recentEventIds).toHaveLength(16);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('events without genre still update lists and counts', () => {
    const p = buildProfile(
      'u',
      [{ eventId: 'x', trackId: 'zz', artistId: 'aa', ts: T0, type: 'play' as const }],
      ctx as never,
    );
    expect(p.genres).toEqual({});
    expect(p.topTracks['zz']).toBeGreaterThan(0);
    expect(p.topArtists['aa']).toBeGreaterThan(0);
    expect(p.counts).toEqual({ plays: 1, skips: 0, likes: 0, dislikes: 0, events: 1 });
  });
});

describe('recent listens (the session)', () => {
  it('are the 20 newest events by ts then fingerprint, newest first, whatever the order, split or redelivery', () => {
    const r = rng(23);
    for (const [n, spreadMs] of [
      [300, 120 * DAY_MS], // distinct times
      [200, 30_000], // many listens in the same second: the fingerprint orders them
      [15, 10 * 60_000], // fewer than the capacity
    ] as const) {
      const records = makeRecords(n, 100 + n).map((rec) => ({
        ...rec,
        event: { ...rec.event, ts: T0 + Math.floor((r() * spreadMs) / 1000) * 1000 },
      }));
      const want = newestListens(records);
      expect(want).toHaveLength(Math.min(20, n));
      for (let trial = 0; trial < 15; trial++) {
        const p = replayShuffled(records, r, { redeliver: 10 });
        expect(p.recent).toEqual(want);
        expect(p.counts.events).toBe(n);
      }
    }
  });

  it('never list an event twice, even one redelivered after the idempotency window forgot it', () => {
    const records = makeRecords(120, 31);
    // 200: a session longer than the history, so no duplicate could hide at the evicted end.
    for (const recentCapacity of [20, 200]) {
      const r = rng(5);
      const want = newestListens(records, recentCapacity);
      // With 4 remembered eventIds, an event delivered again 5–30 events later is counted again (a
      // known limit of the window), but the session still holds it once.
      const opts = { redeliver: 60, recentEventIdsCapacity: 4, recentCapacity };
      const p = replayShuffled(records, r, opts);
      expect(p.counts.events).toBeGreaterThan(120);
      expect(p.recent).toEqual(want);
      // The newest event itself, sent again with another offset long after.
      const newest = records.find((rec) => rec.event.ts === want[0]!.ts)!;
      const again = applyRecords(p, [{ ...newest, offset: 10_000 }], { ...ctx, ...opts }).profile;
      expect(again.counts.events).toBe(p.counts.events + 1);
      expect(again.recent).toEqual(want);
    }
  });

  it('hold the event as given: no undefined ids, every type', () => {
    const p = buildProfile('u', [
      { eventId: 'a', artistId: 'art', ts: T0, type: 'like' as const },
      { eventId: 'b', trackId: 'trk', ts: T0 + 1, type: 'skip' as const },
      { eventId: 'c', trackId: 'trk', artistId: 'art', ts: T0 + 2, type: 'dislike' as const },
    ]);
    expect(p.recent).toEqual([
      { trackId: 'trk', artistId: 'art', ts: T0 + 2, type: 'dislike', fp: fingerprintEventId('c') },
      { trackId: 'trk', ts: T0 + 1, type: 'skip', fp: fingerprintEventId('b') },
      { artistId: 'art', ts: T0, type: 'like', fp: fingerprintEventId('a') },
    ]);
    expect(Object.keys(p.recent[1]!)).not.toContain('artistId');
  });

  it('follow recentCapacity: 0 keeps none, a lowered capacity trims on the next change', () => {
    const records = makeRecords(50, 8);
    expect(applyRecords(emptyProfile('u1'), records, { ...ctx, recentCapacity: 0 }).profile.recent).toEqual([]);
    const p = applyRecords(emptyProfile('u1'), records.slice(0, 40), ctx).profile;
    expect(p.recent).toHaveLength(20);
    const q = applyRecords(p, records.slice(40), { ...ctx, recentCapacity: 5 }).profile;
    expect(q.recent).toEqual(newestListens(records, 5));
  });

  it('leave the input profile untouched', () => {
    const p = applyRecords(emptyProfile('u1'), makeRecords(30, 12), ctx).profile;
    const before = structuredClone(p);
    const later = makeRecords(30, 13).map((rec) => ({
      ...rec,
      offset: rec.offset! + 1000,
      event: { ...rec.event, eventId: `later-${rec.event.eventId}`, ts: rec.event.ts + 200 * DAY_MS },
    }));
    const q = applyRecords(p, later, ctx).profile;
    expect(p).toEqual(before);
    expect(q.recent[0]!.ts).toBeGreaterThan(before.recent[0]!.ts);
  });

  it('recentListens: newest first, from a time on, and [] for a profile stored before the session', () => {
    const p = buildProfile(
      'u',
      [0, 5, 10, 30].map((min) => ({ eventId: `m${min}`, trackId: 't', ts: T0 + min * 60_000, type: 'play' as const })),
    );
    expect(recentListens(p).map((l) => l.ts)).toEqual([30, 10, 5, 0].map((min) => T0 + min * 60_000));
    expect(recentListens(p, T0 + 5 * 60_000).map((l) => l.ts)).toEqual([
      T0 + 30 * 60_000,
      T0 + 10 * 60_000,
      T0 + 5 * 60_000,
    ]);
    expect(recentListens(p, T0 + 31 * 60_000)).toEqual([]);
    expect(recentListens({})).toEqual([]);
  });
});

describe('heavy hitters', () => {
  it('keep the top `capacity` items', () => {
    const events = Array.from({ length: 30 }, (_, i) => ({
      eventId: `e${i}`,
      artistId: `a${i % 10}`,
      ts: T0 + i,
      type: (i % 10 < 3 ? 'like' : 'play') as 'like' | 'play',
    }));
    const p = buildProfile('u', events, { topArtistsCapacity: 3 });
    expect(Object.keys(p.topArtists).sort()).toEqual(['a0', 'a1', 'a2']);
  });
});

describe('profileUpdateOf', () => {
  it('is compact, non-negative and L2-normalized', () => {
    const p = applyRecords(emptyProfile('u1'), makeRecords(80, 11), ctx).profile;
    const u = profileUpdateOf(p);
    expect(u.userId).toBe('u1');
    expect(u.version).toBe(p.version);
    const norm = Math.hypot(...Object.values(u.genres));
    expect(norm).toBeCloseTo(1, 3);
    for (const v of Object.values(u.genres)) expect(v).toBeGreaterThan(0);
  });
});
