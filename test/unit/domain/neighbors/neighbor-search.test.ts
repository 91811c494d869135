import { describe, expect, it } from 'vitest';
import { exactTopK } from '../../../../bench/in-memory-index.ts';
import { ProfileUpdateV1 } from '../../../../shared/domain/events/events.ts';
import { cellOf } from '../../../../shared/domain/neighbors/neighbor-cells.ts';
import {
  blendedBound,
  type IndexCandidate,
  indexTaste,
  NeighborSearch,
  neighborScore,
} from '../../../../shared/domain/neighbors/neighbor-search.ts';
import {
  ARTIST_SKETCH_SIZE,
  decodeArtistSketch,
  decodeVector,
  encodeArtistSketch,
  encodeVector,
} from '../../../../shared/domain/neighbors/taste-codec.ts';
import { emptyProfile, profileUpdateOf } from '../../../../shared/domain/profile/profile.ts';
import { genreVector, idfWeight, similarity } from '../../../../shared/domain/similarity.ts';
import { rng } from '../../../../shared/random.ts';

const W = { genreWeight: 0.1, artistWeight: 0.5 };

describe('encodeArtistSketch / decodeArtistSketch', () => {
  it('keeps the top N artists, weights 1–999 of the largest, and decodes L2-normalized', () => {
    const scores: Record<string, number> = {};
    for (let i = 0; i < 50; i++) scores[`a${i}`] = 50 - i;
    scores.zero = 0;
    scores.neg = -3;
    const s = encodeArtistSketch(scores);
    const parts = s.split(',');
    expect(parts).toHaveLength(ARTIST_SKETCH_SIZE);
    expect(parts[0]).toBe('a0:999');
    expect(parts.at(-1)).toBe(`a${ARTIST_SKETCH_SIZE - 1}:${Math.round((19 / 50) * 999)}`);
    const v = decodeArtistSketch(s);
    expect(v.size).toBe(ARTIST_SKETCH_SIZE);
    expect(v.has('zero') || v.has('neg') || v.has('a40')).toBe(false);
    expect(Math.hypot(...v.values())).toBeCloseTo(1, 12);
    // The decoded sketch is the quantized top-N of the full vector: near-identical cosine to itself.
    const full = decodeArtistSketch(encodeArtistSketch(scores, { limit: 1000 }));
    let dot = 0;
    for (const [k, x] of v) dot += x * (full.get(k) ?? 0);
    expect(dot).toBeGreaterThan(0.95);
  });

  it('round-trips ids with separators and non-ASCII, never quantizes a kept artist to 0', () => {
    const s = encodeArtistSketch({ 'a,b': 1000, 'x:y': 500, Björk: 1e-9 });
    const v = decodeArtistSketch(s);
    expect([...v.keys()].sort()).toEqual(['Björk', 'a,b', 'x:y']);
    expect(v.get('Björk')).toBeGreaterThan(0);
    expect(v.get('a,b')! / v.get('x:y')!).toBeCloseTo(2, 2);
  });

  it('weighs artists by IDF before normalizing, so a shared niche artist counts more', () => {
    const sketch = encodeArtistSketch({ pop: 1, niche: 1 }, { exponent: 0 });
    const listeners = new Map([
      ['pop', 400],
      ['niche', 4],
    ]);
    const v = decodeArtistSketch(sketch, idfWeight(listeners, 0.5));
    expect(v.get('niche')! / v.get('pop')!).toBeCloseTo(10, 6); // (4 / 400)^−0.5
    expect(Math.hypot(...v.values())).toBeCloseTo(1, 12);
    // Without weights both count the same.
    const plain = decodeArtistSketch(sketch);
    expect(plain.get('niche')).toBeCloseTo(plain.get('pop')!, 12);
  });

  it('exponent 0 binarizes; empty and malformed input decode to nothing', () => {
    const v = decodeArtistSketch(encodeArtistSketch({ a: 10, b: 1 }, { exponent: 0 }));
    expect(v.get('a')).toBeCloseTo(v.get('b')!, 12);
    expect(encodeArtistSketch({})).toBe('');
    expect(decodeArtistSketch('').size).toBe(0);
    expect(decodeArtistSketch(undefined).size).toBe(0);
    expect([...decodeArtistSketch('ok:5,:3,nocolon,bad:x,neg:-1,%E0%A4%A:7').keys()]).toEqual(['ok']);
  });

  it('profileUpdateOf carries the sketch of topArtists, and the schema accepts it (or its absence)', () => {
    const p = {
      ...emptyProfile('u1'),
      version: 3,
      genres: { rock: 2, indie: 1 },
      topArtists: { ar1: 5, ar2: 1 },
    };
    const u = profileUpdateOf(p);
    expect(u.artists).toBe('ar1:999,ar2:200');
    expect(ProfileUpdateV1.parse(u).artists).toBe(u.artists);
    expect(profileUpdateOf(emptyProfile('u2')).artists).toBeUndefined();
    expect(ProfileUpdateV1.safeParse({ userId: 'u', version: 1, ts: 0, genres: {} }).success).toBe(true);
  });
});

describe('neighborScore', () => {
  const q = indexTaste(genreVector({ rock: 1, indie: 0.5 }), encodeArtistSketch({ a: 3, b: 2, c: 1 }));

  it('ranks an artist lookalike above a genre-only match', () => {
    const lookalike = indexTaste(genreVector({ rock: 1, metal: 0.8 }), encodeArtistSketch({ a: 3, b: 2, z: 1 }));
    const genreTwin = indexTaste(genreVector({ rock: 1, indie: 0.5 }), encodeArtistSketch({ x: 1, y: 1 }));
    const noArtists = indexTaste(genreVector({ rock: 1, indie: 0.5 }), undefined);
    expect(neighborScore(q, genreTwin, W)).toBeCloseTo(W.genreWeight / (W.genreWeight + W.artistWeight), 6);
    expect(neighborScore(q, noArtists, W)).toBeCloseTo(neighborScore(q, genreTwin, W), 12);
    expect(neighborScore(q, lookalike, W)).toBeGreaterThan(neighborScore(q, genreTwin, W));
    // Genre weights only: the former genre-only ranking, the twin first.
    const G = { genreWeight: 1, artistWeight: 0 };
    expect(neighborScore(q, genreTwin, G)).toBeCloseTo(1, 6);
    expect(neighborScore(q, genreTwin, G)).toBeGreaterThan(neighborScore(q, lookalike, G));
  });

  it('is similarity() over the index tastes', () => {
    const c = indexTaste(genreVector({ jazz: 1, rock: 0.2 }), encodeArtistSketch({ a: 1, q: 4 }));
    expect(neighborScore(q, c, W)).toBe(similarity(q, c, W));
  });

  it('blendedBound bounds every score of a cell and reduces to the genre bound without artists', () => {
    expect(blendedBound(0.3, { genreWeight: 1, artistWeight: 0 })).toBeCloseTo(0.3, 12);
    expect(blendedBound(0.3, W)).toBeCloseTo((0.1 * 0.3 + 0.5) / 0.6, 12);
    expect(blendedBound(0, { genreWeight: 0, artistWeight: 0 })).toBe(0);
  });
});

function buildIndex(users: [string, Float64Array, string][]) {
  const cells = new Map<string, IndexCandidate[]>();
  for (const [id, v, sketch] of users) {
    const stored = decodeVector(encodeVector(v));
    const cell = cellOf(stored);
    if (!cells.has(cell)) cells.set(cell, []);
    cells.get(cell)!.push({ userId: id, taste: indexTaste(stored, sketch) });
  }
  return cells;
}

function run(s: NeighborSearch, cells: Map<string, IndexCandidate[]>) {
  let read = 0;
  for (let wave = s.nextCells(); wave; wave = s.nextCells()) {
    read += wave.length;
    for (const c of wave) s.offer(cells.get(c) ?? []);
  }
  return { neighbors: s.result(), cellsRead: read };
}

describe('NeighborSearch', () => {
  const rand = rng(7);
  const genres = ['rock', 'indie', 'jazz', 'techno', 'folk', 'metal', 'soul', 'pop'];
  const users: [string, Float64Array, string][] = [];
  for (let i = 0; i < 300; i++) {
    const g: Record<string, number> = {};
    for (let j = 0; j < 3; j++) g[genres[Math.floor(rand() * genres.length)]!] = rand();
    const a: Record<string, number> = {};
    for (let j = 0; j < 5; j++) a[`ar${Math.floor(rand() * 400)}`] = 1 + rand();
    users.push([`u${i}`, genreVector(g), encodeArtistSketch(a)]);
  }

  it('with genre weight only, stops on the bound with the exact genre top-k', () => {
    const cells = buildIndex(users);
    const q = genreVector({ rock: 1, indie: 0.3 });
    const s = new NeighborSearch(indexTaste(q, undefined), 'self', 10, { maxCells: 10_000, maxItems: 1e9 }, cells, {
      genreWeight: 1,
      artistWeight: 0,
    });
    const { neighbors, cellsRead } = run(s, cells);
    const stored = users.map(([id, v]) => [id, decodeVector(encodeVector(v))] as const);
    const exact = exactTopK(stored, q, 10);
    expect(neighbors.map((n) => n.userId)).toEqual(exact.map((n) => n.userId));
    expect(cellsRead).toBeLessThan(cells.size);
  });

  it('with an artist term, finds a lookalike in a far genre cell (no premature bound stop)', () => {
    const mine = encodeArtistSketch({ rare1: 5, rare2: 4, rare3: 3 });
    const cells = buildIndex([...users, ['twin', genreVector({ techno: 1, soul: 0.9 }), mine]]);
    const q = indexTaste(genreVector({ rock: 1, indie: 0.3 }), mine);
    const budget = { maxCells: 10_000, maxItems: 1e9 };
    const { neighbors } = run(new NeighborSearch(q, 'self', 10, budget, cells, W), cells);
    expect(neighbors[0]?.userId).toBe('twin');
    // Self is never its own neighbour; the budget caps the cells read.
    const selfRun = run(new NeighborSearch(q, 'twin', 10, budget, cells, W), cells);
    expect(selfRun.neighbors.some((n) => n.userId === 'twin')).toBe(false);
    const capped = run(new NeighborSearch(q, 'self', 10, { maxCells: 3, maxItems: 1e9 }, cells, W), cells);
    expect(capped.cellsRead).toBeLessThanOrEqual(3);
  });
});
