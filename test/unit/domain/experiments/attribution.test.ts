import { describe, expect, it } from 'vitest';
import {
  attributePlay,
  byCounter,
  HOUR_MS,
  type Play,
  playContributions,
  type StoredList,
  servedContribution,
  storedListOf,
  sumAfter,
} from '../../../../shared/domain/experiments/attribution.ts';
import { apart, wilson } from '../../../../shared/domain/experiments/confidence.ts';
import {
  firstIdAt,
  isRecommendationId,
  newRecommendationId,
  servedAtOf,
} from '../../../../shared/domain/experiments/recommendation-id.ts';
import type { ServedListV1 } from '../../../../shared/domain/experiments/served-list.ts';

const T = Date.UTC(2026, 11, 5, 10);
const WINDOW = 24 * HOUR_MS;

function list(id: string, ts: number, items: string[], extra: Partial<ServedListV1> = {}): StoredList {
  return storedListOf(
    {
      v: 1,
      id,
      userId: 'u',
      route: 'recommendations',
      kind: 'artist',
      variant: 'control',
      strategy: 'collaborative',
      ts,
      items,
      ...extra,
    },
    `0:${ts}`,
  );
}
const play = (artistId: string, ts: number, extra: Partial<Play> = {}): Play => ({
  eventId: `e-${artistId}-${ts}`,
  userId: 'u',
  ts,
  type: 'play',
  artistId,
  ...extra,
});

describe('recommendation ids', () => {
  it('carry their time, sort by it and have one form', () => {
    const a = newRecommendationId(T);
    const b = newRecommendationId(T + 1);
    expect(isRecommendationId(a)).toBe(true);
    expect(servedAtOf(a)).toBe(T);
    expect(a < b).toBe(true);
    expect(firstIdAt(T) <= a).toBe(true);
    expect(firstIdAt(T + 1) > a).toBe(true);
    for (const bad of ['', 'r123', `x${a.slice(1)}`, `${a}0`, a.toUpperCase()])
      expect(isRecommendationId(bad)).toBe(false);
    expect(servedAtOf('nope')).toBeUndefined();
  });
});

describe('attribution', () => {
  const older = list(newRecommendationId(T - 2 * HOUR_MS), T - 2 * HOUR_MS, ['a', 'b', 'c']);
  const newer = list(newRecommendationId(T - HOUR_MS), T - HOUR_MS, ['x', 'b', 'y']);

  it('implicit: the newest list before the play that showed its item, with its position', () => {
    const a = attributePlay(play('b', T), [older, newer], WINDOW);
    expect(a).toEqual({ list: newer, position: 2, explicit: false });
    expect(attributePlay(play('c', T), [older, newer], WINDOW)).toEqual({ list: older, position: 3, explicit: false });
  });

  it('explicit: the list the play names, when it showed the item; else implicit', () => {
    const a = attributePlay(play('b', T, { recommendationId: older.id }), [older, newer], WINDOW);
    expect(a).toEqual({ list: older, position: 2, explicit: true });
    const wrongItem = attributePlay(play('x', T, { recommendationId: older.id }), [older, newer], WINDOW);
    expect(wrongItem).toEqual({ list: newer, position: 1, explicit: false });
    const unknown = attributePlay(play('b', T, { recommendationId: newRecommendationId(T) }), [older, newer], WINDOW);
    expect(unknown?.explicit).toBe(false);
  });

  it('nothing outside the window, before the list, for skips and dislikes, or for tracks against artist lists', () => {
    expect(attributePlay(play('a', T - 2 * HOUR_MS + WINDOW + 1), [older], WINDOW)).toBeUndefined();
    expect(attributePlay(play('a', T - 3 * HOUR_MS), [older], WINDOW)).toBeUndefined();
    expect(attributePlay(play('a', T, { type: 'skip' }), [older], WINDOW)).toBeUndefined();
    expect(attributePlay(play('a', T, { type: 'dislike' }), [older], WINDOW)).toBeUndefined();
    expect(attributePlay(play('a', T, { type: 'like' }), [older], WINDOW)?.position).toBe(1);
    expect(attributePlay({ ...play('zz', T), trackId: 'a', artistId: undefined }, [older], WINDOW)).toBeUndefined();
  });

  it('counters: a list by its hour, a play in its listener series and, when it hits, in its list series', () => {
    const served = servedContribution(older, 7);
    expect(served.fields).toEqual({ served: 1 });
    expect(served.key.hour).toBe(Math.floor(older.servedAt / HOUR_MS));
    const a = attributePlay(play('b', T, { recommendationId: older.id }), [older], WINDOW)!;
    const [all, hit] = playContributions(play('b', T), 'control', 9, { attribution: a, firstHit: true }, 20);
    expect(all!.fields).toEqual({ plays: 1, recPlays: 1 });
    expect(all!.key.route).toBe('*');
    expect(hit!.fields).toEqual({ hits: 1, p2: 1, explicit: 1, hitLists: 1 });
    expect(playContributions(play('q', T), 'control', 10, undefined, 20)).toHaveLength(1);
    expect(playContributions(play('q', T, { type: 'skip' }), 'control', 11, undefined, 20)).toEqual([]);
    expect(
      playContributions(play('b', T), 'v', 12, { attribution: { ...a, position: 30 }, firstHit: false }, 20)[1]!.fields,
    ).toEqual({
      hits: 1,
      pMore: 1,
      explicit: 1,
    });
  });

  it('a counter adds only the offsets after its watermark', () => {
    const cs = [servedContribution(older, 3), servedContribution(newer, 5), servedContribution(older, 8)];
    const grouped = byCounter(cs);
    expect(grouped.size).toBe(2);
    expect(sumAfter(cs, -1)).toEqual({ served: 3 });
    expect(sumAfter(cs, 5)).toEqual({ served: 1 });
    expect(sumAfter(cs, 8)).toEqual({});
  });
});

describe('95 % intervals', () => {
  it('Wilson: inside [0, 1], narrower with more data, apart when rates differ enough', () => {
    const small = wilson(5, 10);
    const big = wilson(500, 1000);
    expect(small.low).toBeGreaterThan(0);
    expect(small.high).toBeLessThan(1);
    expect(big.high - big.low).toBeLessThan(small.high - small.low);
    expect(wilson(0, 20).low).toBe(0);
    expect(wilson(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
    // Known value: 50 / 100 → [0.4038, 0.5962].
    expect(wilson(50, 100).low).toBeCloseTo(0.4038, 3);
    expect(wilson(50, 100).high).toBeCloseTo(0.5962, 3);
    expect(apart(wilson(30, 100), wilson(60, 100))).toBe(true);
    expect(apart(wilson(30, 100), wilson(35, 100))).toBe(false);
  });
});

describe('item fingerprints', () => {
  it('32 bits, 4 bytes each, round trip; a list given as ids or fingerprints attributes alike', async () => {
    const { decodeFingerprints, fingerprintItems, itemFingerprint } = await import(
      '../../../../shared/domain/experiments/served-list.ts'
    );
    const ids = ['a', 'mbid:7e84f845-ac16-41fe-9ff8-df12eb32af55', 'lastfm-a123'];
    const fps = ids.map(itemFingerprint);
    for (const x of fps) expect(x).toBeLessThan(2 ** 32);
    expect(new Set(fps).size).toBe(3);
    expect(decodeFingerprints(fingerprintItems(ids))).toEqual(fps);
    expect(fingerprintItems(ids)).toHaveLength(16);
    const base = {
      v: 1 as const,
      id: newRecommendationId(T),
      userId: 'u',
      route: 'radio' as const,
      kind: 'artist' as const,
      variant: 'control',
      strategy: 'seed',
      ts: T,
    };
    const byIds = storedListOf({ ...base, items: ids }, '0:1');
    const byFps = storedListOf({ ...base, fingerprints: fingerprintItems(ids) }, '0:1');
    expect(byFps).toEqual(byIds);
    expect(attributePlay(play('lastfm-a123', T + 1), [byFps], WINDOW)?.position).toBe(3);
  });
});
