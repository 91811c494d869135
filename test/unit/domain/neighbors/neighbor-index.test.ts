import { describe, expect, it } from 'vitest';
import { exactTopK, InMemoryNeighborIndex } from '../../../../bench/in-memory-index.ts';
import { GENRE_COUNT, GENRE_INDEX } from '../../../../shared/domain/genres.ts';
import { cellOf, probeCells, probePlan, probePlanWithin } from '../../../../shared/domain/neighbors/neighbor-cells.ts';
import { mergeNeighbors } from '../../../../shared/domain/neighbors/neighbor-search.ts';
import { shouldRefresh } from '../../../../shared/domain/neighbors/refresh-policy.ts';
import { decodeVector, encodeVector } from '../../../../shared/domain/neighbors/taste-codec.ts';
import { genreVector } from '../../../../shared/domain/similarity.ts';
import { rng } from '../../../../shared/random.ts';

/** Users mixing 1–4 genres drawn from a Zipf popularity, with exponential weights plus sparse noise. */
function syntheticUsers(n: number, seed: number): [string, Float64Array][] {
  const r = rng(seed);
  const G = GENRE_COUNT;
  const perm = Array.from({ length: G }, (_, i) => i);
  for (let i = G - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const pop = perm.map((_, rank) => 1 / (rank + 1));
  const total = pop.reduce((a, b) => a + b, 0);
  const pick = () => {
    let u = r() * total;
    for (let i = 0; i < G; i++) {
      u -= pop[i]!;
      if (u <= 0) return perm[i]!;
    }
    return perm[G - 1]!;
  };
  const users: [string, Float64Array][] = [];
  for (let u = 0; u < n; u++) {
    const v = new Float64Array(G);
    const x = r();
    const m = x < 0.3 ? 1 : x < 0.65 ? 2 : x < 0.85 ? 3 : 4;
    for (let j = 0; j < m; j++) v[pick()]! += -Math.log(1 - r());
    for (let i = 0; i < G; i++) if (r() < 0.3) v[i]! += 0.05 * r();
    const norm = Math.hypot(...v);
    for (let i = 0; i < G; i++) v[i]! /= norm;
    users.push([`u${u}`, v]);
  }
  return users;
}

describe('cells', () => {
  it('are keyed by the ordered top-2 genres and their ratio bucket', () => {
    expect(cellOf(genreVector({ rock: 1, indie: 0.5 }))).toBe('rock/indie/2');
    expect(cellOf(genreVector({ rock: 0.5, indie: 1 }))).toBe('indie/rock/2');
    expect(cellOf(genreVector({ rock: 1, indie: 0.95, jazz: 0.1 }))).toBe('rock/indie/4');
    expect(cellOf(genreVector({ jazz: 1 }))).toBe('jazz/-');
    expect(cellOf(new Float64Array(GENRE_COUNT))).toBe('_');
  });
  it('probe order starts at the own cell and bounds hold for every member', () => {
    const users = syntheticUsers(2000, 3);
    for (const [, q] of users.slice(0, 20)) {
      const plan = probePlan(q);
      expect(plan[0]!.cell).toBe(cellOf(q));
      expect(probeCells(q, { maxCells: 5 })).toEqual(plan.slice(0, 5).map((p) => p.cell));
      const bound = new Map(plan.map((p) => [p.cell, p.bound]));
      for (const [, x] of users) {
        let dot = 0;
        for (let i = 0; i < GENRE_COUNT; i++) dot += q[i]! * x[i]!;
        expect(dot).toBeLessThanOrEqual(bound.get(cellOf(x))! + 1e-12);
      }
    }
  }, 60_000);
});

describe('probePlanWithin', () => {
  it('equals the full probe plan filtered to the given cells, in order, scores and bounds', () => {
    const users = syntheticUsers(300, 11);
    const occupied = new Set(users.map(([, v]) => cellOf(v)));
    occupied.add('not-a-cell');
    for (const [, q] of users.slice(0, 40)) {
      expect(probePlanWithin(q, occupied)).toEqual(probePlan(q).filter((p) => occupied.has(p.cell)));
    }
    const zero = new Float64Array(GENRE_COUNT);
    expect(probePlanWithin(zero, occupied)).toEqual([]);
    expect(probePlanWithin(zero, new Set(['_']))).toEqual(probePlan(zero));
  });
});

describe('encodeVector / decodeVector', () => {
  it('round-trips compactly within quantization error', () => {
    const v = genreVector({ rock: 0.8, indie: 0.5, shoegaze: 0.3, jazz: 0.01 });
    const s = encodeVector(v);
    expect(s.length).toBeLessThan(40);
    expect(s.startsWith(`${GENRE_INDEX['rock']}:999`)).toBe(true);
    const d = decodeVector(s);
    for (let i = 0; i < GENRE_COUNT; i++) expect(Math.abs(d[i]! - v[i]!)).toBeLessThan(2e-3);
    expect(decodeVector('')).toEqual(new Float64Array(GENRE_COUNT));
    expect(decodeVector('999:5,x:y,3:7')[3]).toBe(1);
  });
});

describe('InMemoryNeighborIndex', () => {
  it('moves users between cells on upsert and removes them', () => {
    const idx = new InMemoryNeighborIndex();
    idx.upsert('a', genreVector({ rock: 1 }));
    expect(idx.cellOfUser('a')).toBe('rock/-');
    idx.upsert('a', genreVector({ jazz: 1, blues: 0.1 }));
    expect(idx.cellOfUser('a')).toBe('jazz/blues/0');
    expect(idx.cellSize('rock/-')).toBe(0);
    expect(idx.size).toBe(1);
    expect(idx.remove('a')).toBe(true);
    expect(idx.size).toBe(0);
    expect(idx.query(genreVector({ jazz: 1 }), 5).neighbors).toEqual([]);
  });

  it('is exact when the bound stops the search', () => {
    const users = syntheticUsers(500, 5);
    const idx = new InMemoryNeighborIndex();
    for (const [id, v] of users) idx.upsert(id, v);
    const [qid, q] = users[0]!;
    const res = idx.query(q, 10, { maxCells: 1e9, excludeUserId: qid });
    expect(res.exact).toBe(true);
    expect(res.neighbors.map((n) => n.userId)).toEqual(exactTopK(users, q, 10, qid).map((n) => n.userId));
  });

  it('recall@10 ≥ 0.9 reading ≤ 10% of 20k skewed users', () => {
    const n = 20_000;
    const users = syntheticUsers(n, 7);
    const idx = new InMemoryNeighborIndex({ quantize: true });
    for (const [id, v] of users) idx.upsert(id, v);
    const queries = 200;
    let recall = 0;
    let items = 0;
    let cells = 0;
    for (let i = 0; i < queries; i++) {
      const [qid, q] = users[(i * 7919) % n]!;
      const truth = exactTopK(users, q, 10, qid);
      const res = idx.query(q, 10, { maxCells: 256, maxItems: 0.05 * n, excludeUserId: qid });
      const got = new Set(res.neighbors.map((x) => x.userId));
      recall += truth.filter((t) => got.has(t.userId)).length / truth.length;
      items += res.itemsRead;
      cells += res.cellsRead;
    }
    recall /= queries;
    const fraction = items / queries / n;
    console.log(
      `neighbor index: ${n} users, ${idx.cellCount} cells: recall@10 ${recall.toFixed(3)}, read ${(100 * fraction).toFixed(2)}% of items, ${(cells / queries).toFixed(1)} cells/query`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(fraction).toBeLessThanOrEqual(0.1);
    // 20k users on a shared 2-core machine: seconds, not the default 5 s.
  }, 60_000);
});

describe('mergeNeighbors', () => {
  it('dedupes by user (candidates win), sorts and truncates', () => {
    const merged = mergeNeighbors(
      [
        { userId: 'a', similarity: 0.9 },
        { userId: 'b', similarity: 0.5 },
      ],
      [
        { userId: 'a', similarity: 0.4 },
        { userId: 'c', similarity: 0.5 },
        { userId: 'd', similarity: 0.7 },
      ],
      3,
    );
    expect(merged).toEqual([
      { userId: 'd', similarity: 0.7 },
      { userId: 'b', similarity: 0.5 },
      { userId: 'c', similarity: 0.5 },
    ]);
  });
});

describe('shouldRefresh', () => {
  const policy = { minIntervalMs: 1000, minDrift: 0.01 };
  const v1 = genreVector({ rock: 1, indie: 0.2 });
  const v2 = genreVector({ rock: 1, indie: 0.21 });
  const v3 = genreVector({ jazz: 1 });
  it('refreshes without a snapshot, respects the interval and the drift', () => {
    expect(shouldRefresh(undefined, v1, undefined, 0, policy)).toBe(true);
    expect(shouldRefresh(v1, v3, 500, 1000, policy)).toBe(false);
    expect(shouldRefresh(v1, v2, 0, 5000, policy)).toBe(false);
    expect(shouldRefresh(v1, v3, 0, 5000, policy)).toBe(true);
  });
});
