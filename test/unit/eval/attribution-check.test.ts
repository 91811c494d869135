import { describe, expect, it } from 'vitest';
import type { CounterRow } from '../../../shared/adapters/dynamodb/experiments.ts';
import {
  countMismatches,
  expectedCounts,
  hitRate,
  type ListOutcome,
  listenersNeeded,
  liveCounts,
  outcomesOf,
  powerListeners,
  type ServedAnswer,
} from '../../../tools/eval/attribution-check.ts';

const answer = (user: string, variant: string, items: string[]): ServedAnswer => ({
  user,
  recommendationId: `r-${user}`,
  variant,
  strategy: 'neighbors',
  items,
});

// u1 (control) was shown b at position 2 and plays b and x; u2 (popular) hits nothing; u3 had no
// answer (a failed request) but still plays, in the series of the variant the experiment gives.
const answers = [answer('u1', 'control', ['a', 'b', 'c']), answer('u2', 'popular', ['d', 'e'])];
const tests = new Map([
  ['u1', new Set(['b', 'x'])],
  ['u2', new Set(['f'])],
  ['u3', new Set(['g'])],
]);
const variantOf = () => 'control';

describe('expected counts from the kept answers', () => {
  it('one implicit replay: served, lists with a hit, hits by position, plays and plays from lists', () => {
    expect(expectedCounts(answers, tests, variantOf, 20, [{ explicit: false }])).toEqual({
      control: { lists: { served: 1, hitLists: 1, hits: 1, p2: 1 }, plays: { plays: 3, recPlays: 1 } },
      popular: { lists: { served: 1 }, plays: { plays: 1 } },
    });
  });

  it('a second, explicit replay adds hits and explicit hits but no list with a hit', () => {
    const c = expectedCounts(answers, tests, variantOf, 20, [{ explicit: false }, { explicit: true }]);
    expect(c.control).toEqual({
      lists: { served: 1, hitLists: 1, hits: 2, p2: 2, explicit: 1 },
      plays: { plays: 6, recPlays: 2 },
    });
  });

  it('positions past the counted ones go to pMore; no replay means served only', () => {
    const long = [answer('u1', 'control', ['a', 'c', 'b'])];
    expect(expectedCounts(long, tests, variantOf, 2, [{ explicit: false }]).control?.lists).toEqual({
      served: 1,
      hitLists: 1,
      hits: 1,
      pMore: 1,
    });
    expect(expectedCounts(answers, tests, variantOf, 20, []).control).toEqual({ lists: { served: 1 }, plays: {} });
  });
});

describe('live counts and their comparison', () => {
  const row = (hour: number, variant: string, route: string, fields: Record<string, number>): CounterRow => ({
    key: { hour, variant, route, strategy: route === '*' ? '*' : 'neighbors' },
    fields,
  });

  it('sums hours and strategies per variant; other routes are set apart', () => {
    const { counts, otherRoutes } = liveCounts([
      row(10, 'control', 'recommendations', { served: 1, hits: 1, p2: 1 }),
      row(11, 'control', 'recommendations', { served: 2, hitLists: 1 }),
      row(11, 'control', '*', { plays: 3, recPlays: 1 }),
      row(11, 'popular', 'radio', { served: 1 }),
    ]);
    expect(counts.control).toEqual({
      lists: { served: 3, hits: 1, p2: 1, hitLists: 1 },
      plays: { plays: 3, recPlays: 1 },
    });
    expect(otherRoutes).toEqual(['radio']);
  });

  it('equal counts give no mismatch; every differing field is named, a missing one counting 0', () => {
    const e = expectedCounts(answers, tests, variantOf, 20, [{ explicit: false }]);
    expect(countMismatches(structuredClone(e), e)).toEqual([]);
    const live = structuredClone(e);
    live.control!.lists.hits = 2;
    delete live.popular!.plays.plays;
    live.other = { lists: { served: 1 }, plays: {} };
    expect(countMismatches(live, e)).toEqual([
      'control lists.hits: live 2 ≠ offline 1',
      'other lists.served: live 1 ≠ offline 0',
      'popular plays.plays: live 0 ≠ offline 1',
    ]);
  });

  it('hit rate is lists with a hit over lists served, with its Wilson interval', () => {
    const r = hitRate({ served: 10, hitLists: 4 });
    expect(r.rate).toBe(0.4);
    expect(r.low).toBeGreaterThan(0.1);
    expect(r.high).toBeLessThan(0.75);
    expect(outcomesOf(answers, tests)).toEqual([
      { variant: 'control', hit: true },
      { variant: 'popular', hit: false },
    ]);
  });
});

describe('listeners needed', () => {
  const outcomes = (n: number, rateA: number, rateB: number): ListOutcome[] =>
    Array.from({ length: n }, (_, i) => {
      const variant = i % 2 === 0 ? 'a' : 'b';
      const rate = variant === 'a' ? rateA : rateB;
      // Deterministic: within each variant, the first `rate` share are hits.
      return { variant, hit: Math.floor(i / 2) < rate * (n / 2) };
    });

  it('far apart rates separate with few listeners, and more draws agree as n grows', () => {
    const r = listenersNeeded(outcomes(400, 0.9, 0.1), 'a', 'b', { step: 10, draws: 50, seed: 1, levels: [0.5, 0.95] });
    expect(r.needed['0.5']).toBeLessThanOrEqual(30);
    expect(r.needed['0.95']).toBeGreaterThanOrEqual(r.needed['0.5']!);
    expect(r.curve.at(-1)).toEqual({ n: 400, apartShare: 1 });
    // Seeded: the same curve again.
    expect(
      listenersNeeded(outcomes(400, 0.9, 0.1), 'a', 'b', { step: 10, draws: 50, seed: 1, levels: [0.5] }).curve,
    ).toEqual(r.curve);
  });

  it('equal rates never separate within the listeners there are', () => {
    const r = listenersNeeded(outcomes(200, 0.5, 0.5), 'a', 'b', { step: 50, draws: 20, seed: 1, levels: [0.8] });
    expect(r.needed['0.8']).toBeUndefined();
    expect(r.curve.map((c) => c.n)).toEqual([50, 100, 150, 200]);
  });

  it('the power calculation: equal arms, z·(s₁+s₂) at 50 % power, more at 80 %, none for equal rates', () => {
    // p 0.8 vs 0.5: s = 0.4 and 0.5, d = 0.3; per arm (1.96 · 0.9 / 0.3)² = 34.57 → 35, total 70.
    expect(powerListeners(0.8, 0.5, '0.5')).toBe(70);
    expect(powerListeners(0.8, 0.5, '0.8')).toBeGreaterThan(70);
    expect(powerListeners(0.3, 0.3, '0.8')).toBeUndefined();
  });
});
