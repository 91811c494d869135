import { describe, expect, it } from 'vitest';
import { emptyProfile, type Profile } from '../../../../shared/domain/profile/profile.ts';
import { recommend } from '../../../../shared/domain/ranking/rank.ts';
import type { CandidateItem, NeighborItems } from '../../../../shared/domain/ranking/types.ts';
import { prepareItems, scoreCandidates, topN } from '../../../../shared/domain/ranking/user-neighbors.ts';

const user: Profile = {
  ...emptyProfile('me'),
  genres: { shoegaze: 5, indie: 2, techno: -1 },
  topTracks: { own1: 3 },
  counts: { plays: 10, skips: 0, likes: 0, dislikes: 0, events: 10 },
};

const neighbors: NeighborItems[] = [
  { userId: 'n1', similarity: 0.9, topItems: { A: 4, B: 1, own1: 3 } },
  {
    userId: 'n2',
    similarity: 0.8,
    topItems: new Map([
      ['A', 1],
      ['C', 4],
    ]),
  },
  { userId: 'n3', similarity: 0.1, topItems: { D: 10, E: -2 } },
];

const catalog: CandidateItem[] = [
  { id: 'A', genres: { rock: 1 }, popularity: 90 },
  { id: 'B', genres: { jazz: 1 }, popularity: 10 },
  { id: 'C', genres: { shoegaze: 0.8, indie: 0.2 }, popularity: 40 },
  { id: 'D', genres: { techno: 1 }, popularity: 5 },
  { id: 'S1', genres: { shoegaze: 1 }, popularity: 70 },
  { id: 'S2', genres: { shoegaze: 1 }, popularity: 20 },
  { id: 'I1', genres: { indie: 1 }, popularity: 99 },
  { id: 'own1', genres: { shoegaze: 1 }, popularity: 100 },
];

const plain = { alpha: 1, itemExponent: 1, normalize: 'none' as const, genreBlend: 0 };

describe('scoreCandidates', () => {
  it('sums sim^α · weight over neighbours, skipping excluded and non-positive items', () => {
    const s = scoreCandidates(neighbors, { ...plain, exclude: new Set(['own1']) });
    expect(s.get('A')!.score).toBeCloseTo(0.9 * 4 + 0.8 * 1, 12);
    expect(s.get('A')!.supporters).toBe(2);
    expect(s.get('C')!.score).toBeCloseTo(3.2, 12);
    expect(s.has('own1')).toBe(false);
    expect(s.has('E')).toBe(false);
    expect(topN(s, 2).map(([id]) => id)).toEqual(['A', 'C']);
  });
  it('normalizes per neighbour and applies α and β', () => {
    const s = scoreCandidates(neighbors, { alpha: 2, itemExponent: 1, normalize: 'sum' });
    expect(s.get('D')!.score).toBeCloseTo(0.01 * 1, 12);
    expect(s.get('B')!.score).toBeCloseTo((0.81 * 1) / 8, 12);
    const p = scoreCandidates(neighbors, { ...plain, beta: 1, popularity: new Map([['A', 10]]) });
    expect(p.get('A')!.score).toBeCloseTo(0.44, 12);
    expect(p.get('C')!.score).toBeCloseTo(3.2, 12);
  });
});

describe('recommend', () => {
  it('ranks collaborative candidates with reasons and excludes own items', () => {
    const r = recommend({ profile: user, neighbors, kind: 'track', params: plain, limit: 4 });
    expect(r.strategy).toBe('collaborative');
    expect(r.items.map((i) => i.id)).toEqual(['A', 'C', 'D', 'B']);
    expect(r.items[0]!.reasons).toEqual(['liked by 2 listeners like you']);
    expect(r.items[2]!.reasons).toEqual(['liked by 1 listener like you']);
  });

  it('blends in genre match with reasons', () => {
    const r = recommend({
      profile: user,
      neighbors,
      kind: 'track',
      candidates: catalog,
      params: { ...plain, genreBlend: 0.5, popularityPrior: 0 },
    });
    const ids = r.items.map((i) => i.id);
    // C: 0.5·(3.2/4.4) + 0.5·cos ≈ 0.83 beats A: 0.5·1 + 0 = 0.5
    expect(ids[0]).toBe('C');
    expect(ids).not.toContain('own1');
    const c = r.items[0]!;
    expect(c.reasons).toEqual(['liked by 1 listener like you', 'because you play a lot of shoegaze']);
    const s1 = r.items.find((i) => i.id === 'S1')!;
    expect(s1.reasons).toEqual(['because you play a lot of shoegaze']);
  });

  it('is deterministic: ties break by id', () => {
    const tied: NeighborItems[] = [{ userId: 'n', similarity: 1, topItems: { z: 1, y: 1, x: 1 } }];
    const r = recommend({ profile: user, neighbors: tied, kind: 'track', params: plain });
    expect(r.items.map((i) => i.id)).toEqual(['x', 'y', 'z']);
  });

  it('uses genre match without neighbours', () => {
    const r = recommend({ profile: user, neighbors: [], kind: 'track', candidates: catalog, limit: 3 });
    expect(r.strategy).toBe('genre');
    // C matches the shoegaze+indie mix best; S1 is more popular.
    expect(r.items.map((i) => i.id)).toEqual(['S1', 'C', 'S2']);
    expect(r.items[0]!.reasons).toEqual(['because you play a lot of shoegaze', 'popular in shoegaze']);
  });

  it('falls back to popular items for unknown and empty users, never throwing', () => {
    for (const profile of [undefined, emptyProfile('new')]) {
      const r = recommend({ profile, kind: 'track', candidates: catalog, limit: 3 });
      expect(r.strategy).toBe('popular');
      expect(r.items.map((i) => i.id)).toEqual(['own1', 'I1', 'A']);
      expect(r.items[1]!.reasons).toEqual(['popular in indie']);
    }
    expect(recommend({ profile: undefined, kind: 'artist' })).toEqual({ items: [], strategy: 'popular' });
  });

  it('filters by genre (any spelling)', () => {
    const r = recommend({ profile: undefined, kind: 'track', candidates: catalog, genre: 'Shoegaze' });
    expect(r.items.map((i) => i.id)).toEqual(['own1', 'S1', 'C', 'S2']);
    expect(r.items[0]!.reasons).toEqual(['popular in shoegaze']);
    const c = recommend({ profile: user, neighbors, kind: 'track', candidates: catalog, genre: 'techno' });
    expect(c.items.map((i) => i.id)).toEqual(['D']);
    expect(recommend({ profile: user, kind: 'track', candidates: catalog, genre: 'seen live' }).items).toEqual([]);
  });
});

describe('prepareItems', () => {
  it('gives the same scores as raw maps', () => {
    const opts = { alpha: 2, itemExponent: 0.5, normalize: 'l2' as const };
    const raw = scoreCandidates(neighbors, opts);
    const prepared = scoreCandidates(
      neighbors.map((n) => ({ ...n, topItems: prepareItems(n.topItems as Record<string, number>, opts) })),
      opts,
    );
    expect([...prepared.keys()].sort()).toEqual([...raw.keys()].sort());
    for (const [id, c] of raw) {
      expect(prepared.get(id)!.score).toBeCloseTo(c.score, 12);
      expect(prepared.get(id)!.supporters).toBe(c.supporters);
    }
  });
});
