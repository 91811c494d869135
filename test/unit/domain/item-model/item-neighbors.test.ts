import { describe, expect, it } from 'vitest';
import {
  contentNeighborLists,
  itemNeighborLists,
  tagVectors,
} from '../../../../shared/domain/item-model/item-neighbors.ts';
import { emptyProfile, type Profile } from '../../../../shared/domain/profile/profile.ts';
import { scoreItemNeighbors } from '../../../../shared/domain/ranking/item-lists.ts';
import { recommend } from '../../../../shared/domain/ranking/rank.ts';
import { idfWeight, similarity, tagProfile, tasteFeatures } from '../../../../shared/domain/similarity.ts';

const users = [
  ['a', 'b', 'c'],
  ['a', 'b'],
  ['b', 'd'],
];

describe('itemNeighborLists', () => {
  it('computes the RP3beta walk weights by hand (α = 1, β = 0)', () => {
    const l = itemNeighborLists(users, { alpha: 1, beta: 0, topK: 10 });
    // a: degree 2; a → u1 (1/3) → b, c ; a → u2 (1/2) → b
    const a = l.get('a')!;
    const w = Object.fromEntries(a.ids.map((id, i) => [id, a.weights[i]]));
    expect(w.b).toBeCloseTo((1 / 2) * (1 / 3) + (1 / 2) * (1 / 2));
    expect(w.c).toBeCloseTo((1 / 2) * (1 / 3));
    expect(a.ids).toEqual(['b', 'c']);
    expect(l.get('d')!.ids).toEqual(['b']);
  });

  it('penalizes popular targets with β and keeps top-K, ties by id', () => {
    const l = itemNeighborLists(users, { alpha: 1, beta: 1, topK: 1 });
    // from a: b (degree 3) 0.4167/3 = 0.139 vs c (degree 1) 0.1667 → c first
    expect(l.get('a')!.ids).toEqual(['c']);
    const tie = itemNeighborLists([['x', 'z', 'y']], { alpha: 1, beta: 0, topK: 2 });
    expect(tie.get('x')!.ids).toEqual(['y', 'z']);
  });

  it('scores a user as the sum over own items, skipping excluded ids', () => {
    const l = itemNeighborLists(users, { alpha: 1, beta: 0, topK: 10 });
    const s = scoreItemNeighbors(
      ['a', 'd'],
      (id) => l.get(id),
      (id) => id === 'c',
    );
    expect([...s.keys()]).toEqual(['b']);
    expect(s.get('b')).toBeCloseTo(5 / 12 + 1 / 2);
  });
});

describe('recommend with item neighbours', () => {
  const me: Profile = { ...emptyProfile('me'), genres: { rock: 1 }, topArtists: { a: 1 } };
  const lists = itemNeighborLists(users, { alpha: 1, beta: 0, topK: 10 });
  it('blends item-neighbour scores in with itemBlend and explains them', () => {
    const neighbors = [{ userId: 'n', similarity: 1, topItems: { d: 1 } }];
    const off = recommend({
      profile: me,
      neighbors,
      kind: 'artist',
      itemNeighbors: (id) => lists.get(id),
      params: { itemBlend: 0 },
    });
    expect(off.items.map((i) => i.id)).toEqual(['d']);
    const on = recommend({
      profile: me,
      neighbors,
      kind: 'artist',
      itemNeighbors: (id) => lists.get(id),
      params: { itemBlend: 0.6, genreBlend: 0 },
    });
    expect(on.items.map((i) => i.id)).toEqual(['b', 'd', 'c']);
    expect(on.items[0]!.reasons).toContain('similar to artists you play');
    // b: 0.6 · 1; d: 0.4 · 1; c: 0.6 · (1/6)/(5/12); then divided by the max (0.6)
    expect(on.items.map((i) => i.score)).toEqual([1, expect.closeTo(2 / 3), expect.closeTo(0.4)]);
  });

  it('blends by default (the tuned ω), and the user part keeps its whole weight without lists', () => {
    const neighbors = [{ userId: 'n', similarity: 1, topItems: { d: 1 } }];
    const blended = recommend({ profile: me, neighbors, kind: 'artist', itemNeighbors: (id) => lists.get(id) });
    expect(blended.items.map((i) => i.id)).toContain('b');
    const alone = recommend({ profile: me, neighbors, kind: 'artist', contentNeighbors: () => undefined });
    expect(alone.items.map((i) => [i.id, i.score])).toEqual([['d', 1]]);
  });
});

describe('IDF item weights in similarity', () => {
  it('weights shared niche artists above shared popular ones', () => {
    const p = (id: string, artists: Record<string, number>): Profile => ({ ...emptyProfile(id), topArtists: artists });
    const listeners = new Map([
      ['pop', 100],
      ['niche', 1],
    ]);
    const w = idfWeight(listeners, 0.5);
    expect(w('pop')).toBeCloseTo(0.1);
    expect(w('unknown')).toBe(1);
    const me = p('me', { pop: 1, niche: 1 });
    const viaPop = p('x', { pop: 1, other: 1 });
    const viaNiche = p('y', { niche: 1, other: 1 });
    const f = (q: Profile) => tasteFeatures(q, 'topArtists', { itemWeight: w });
    const weights = { genreWeight: 0, artistWeight: 1 };
    expect(similarity(f(me), f(viaNiche), weights)).toBeGreaterThan(similarity(f(me), f(viaPop), weights));
    // without weights the two are equal
    expect(similarity(tasteFeatures(me), tasteFeatures(viaNiche), weights)).toBeCloseTo(
      similarity(tasteFeatures(me), tasteFeatures(viaPop), weights),
    );
  });
});

describe('contentNeighborLists', () => {
  it('ranks items by TF-IDF cosine of their tags, ignoring tags every item has', () => {
    const l = contentNeighborLists(
      new Map<string, Record<string, number>>([
        ['x', { rock: 3, grunge: 2, seen: 1 }],
        ['y', { rock: 1, grunge: 5, seen: 1 }],
        ['z', { rock: 2, jazz: 4, seen: 1 }],
        ['w', { seen: 9 }],
      ]),
      10,
    );
    expect(l.get('x')!.ids).toEqual(['y', 'z']);
    expect(l.get('w')!.ids).toEqual([]); // only the tag every item has: idf 0
    const [a, b] = l.get('x')!.weights;
    expect(a!).toBeGreaterThan(b!);
    expect(a!).toBeLessThanOrEqual(1);
  });

  it('adds content scores with contentBlend', () => {
    const me: Profile = { ...emptyProfile('me'), genres: { rock: 1 }, topArtists: { x: 1 } };
    const content = contentNeighborLists(
      new Map<string, Record<string, number>>([
        ['x', { grunge: 1 }],
        ['y', { grunge: 1 }],
        ['z', { jazz: 1 }],
      ]),
      10,
    );
    const neighbors = [{ userId: 'n', similarity: 1, topItems: { z: 1 } }];
    const r = recommend({
      profile: me,
      neighbors,
      kind: 'artist',
      contentNeighbors: (id) => content.get(id),
      params: { contentBlend: 2, genreBlend: 0 },
    });
    expect(r.items.map((i) => i.id)).toEqual(['y', 'z']);
  });
});

describe('tag profiles in similarity', () => {
  const vectors = tagVectors(
    new Map<string, Record<string, number>>([
      ['x', { grunge: 2, rock: 1 }],
      ['y', { grunge: 1 }],
      ['z', { jazz: 3 }],
      ['w', { rock: 1, jazz: 1 }],
    ]),
  );
  it('builds unit TF-IDF tag vectors', () => {
    const x = vectors.get('x')!;
    expect([...x.values()].reduce((a, b) => a + b * b, 0)).toBeCloseTo(1);
    expect(x.get('grunge')!).toBeGreaterThan(x.get('rock')!);
  });
  it('compares users by their tag profiles with tagWeight, bounded by limit', () => {
    const get = (id: string) => vectors.get(id);
    const a = tagProfile({ x: 1 }, get);
    const b = tagProfile({ y: 1 }, get);
    const c = tagProfile({ z: 1 }, get);
    expect(tagProfile({ x: 1, w: 1 }, get, 1).size).toBe(1);
    const f = (tags: ReturnType<typeof tagProfile>) => ({ genres: new Float64Array(0), artists: new Map(), tags });
    const w = { genreWeight: 0, artistWeight: 0.5, tagWeight: 0.5 };
    expect(similarity(f(a), f(b), w)).toBeGreaterThan(0);
    expect(similarity(f(a), f(c), w)).toBe(0);
    // without tagWeight the tags are ignored
    expect(similarity(f(a), f(b), { genreWeight: 0, artistWeight: 1 })).toBe(0);
  });
});
