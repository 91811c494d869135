import { describe, expect, it } from 'vitest';
import {
  dedupe,
  evaluateLists,
  type Interaction,
  kCore,
  mulberry32,
  randomSplit,
  userMetrics,
} from '../../../tools/eval/protocol.ts';

const ia = (user: string, item: string, plays = 1): Interaction => ({ user, item, plays });

describe('metrics', () => {
  it('precision, recall and nDCG on a hand-computed list', () => {
    // Hits at ranks 1 and 3 of k = 4; 3 relevant items.
    const m = userMetrics(['a', 'x', 'b', 'y'], new Set(['a', 'b', 'c']), 4);
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    const dcg = 1 + 1 / Math.log2(4);
    const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(m.ndcg).toBeCloseTo(dcg / idcg, 12);
  });

  it('ideal DCG runs over min(|relevant|, k) and a perfect list scores 1', () => {
    expect(userMetrics(['a', 'x'], new Set(['a']), 2).ndcg).toBe(1);
    const m = userMetrics(['a', 'b'], new Set(['a', 'b', 'c', 'd']), 2);
    expect(m.ndcg).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(userMetrics(['x', 'a'], new Set(['a']), 2).ndcg).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('a short list still divides precision by k; averages and coverage over users with test items', () => {
    expect(userMetrics(['a'], new Set(['a']), 10).precision).toBe(0.1);
    const lists = new Map([
      ['u1', ['a', 'b']],
      ['u2', ['a', 'c']],
    ]);
    const tests = new Map([
      ['u1', new Set(['a'])],
      ['u2', new Set(['z'])],
      ['u3', new Set<string>()],
    ]);
    const m = evaluateLists(lists, tests, 2, 10);
    expect(m.users).toBe(2);
    expect(m['precision@k']).toBe(0.25);
    expect(m['recall@k']).toBe(0.5);
    expect(m.coverage).toBe(0.3);
  });
});

describe('k-core', () => {
  it('filters iteratively until every user and item has at least k interactions', () => {
    // u1, u2 share a and b; u3 has a and c; c has one user → dropped; then u3 has 1 → dropped.
    const rows = [ia('u1', 'a'), ia('u1', 'b'), ia('u2', 'a'), ia('u2', 'b'), ia('u3', 'a'), ia('u3', 'c')];
    const out = kCore(rows, 2);
    expect(out.map((r) => `${r.user}${r.item}`).sort()).toEqual(['u1a', 'u1b', 'u2a', 'u2b']);
    // With k = 3 the cascade removes everything.
    expect(kCore(rows, 3)).toEqual([]);
  });

  it('binarizes duplicates into one pair (summing plays) and drops non-positive rows', () => {
    expect(dedupe([ia('u', 'a', 2), ia('u', 'a', 3), ia('u', 'b', 0)])).toEqual([ia('u', 'a', 5)]);
  });
});

describe('split', () => {
  const rows: Interaction[] = [];
  for (let u = 0; u < 20; u++) for (let i = 0; i < 10 + (u % 7); i++) rows.push(ia(`u${u}`, `i${(u * 3 + i) % 40}`));

  it('is deterministic for a seed, independent of input order, and differs across seeds', () => {
    const a = randomSplit(rows, 7);
    const b = randomSplit(rows.slice().reverse(), 7);
    const key = (s: Interaction[]) => s.map((r) => `${r.user}/${r.item}`).sort();
    expect(key(b.test)).toEqual(key(a.test));
    expect(key(randomSplit(rows, 8).test)).not.toEqual(key(a.test));
  });

  it('holds out round(20 %) of every user and partitions the rows', () => {
    const { train, test } = randomSplit(rows, 1);
    expect(train.length + test.length).toBe(rows.length);
    const n = (l: Interaction[], u: string) => l.filter((r) => r.user === u).length;
    for (let u = 0; u < 20; u++) {
      const total = 10 + (u % 7);
      expect(n(test, `u${u}`)).toBe(Math.round(0.2 * total));
    }
    const trainKeys = new Set(train.map((r) => `${r.user}/${r.item}`));
    expect(test.some((r) => trainKeys.has(`${r.user}/${r.item}`))).toBe(false);
  });

  it('mulberry32 is a deterministic stream in [0, 1)', () => {
    const a = mulberry32(3);
    const b = mulberry32(3);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(100);
  });
});
