import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  CONTROL,
  type Experiment,
  experimentProblems,
  rankingOf,
  sharesOf,
  variantOf,
} from '../../../../shared/domain/experiments/variants.ts';
import { DEFAULT_RANKING } from '../../../../shared/domain/ranking/params.ts';
import { experiments } from '../../../../shared/topology.ts';

const users = Array.from({ length: 20_000 }, (_, i) => `listener-${i}`);
const exp = (variants: Experiment['variants']): Experiment => ({ salt: 's1', buckets: 1000, variants });

describe('ranking variants', () => {
  it('assigns by bucket range, stable across calls, with shares near the declared ones', () => {
    const e = exp([
      { name: 'control', from: 0, to: 700 },
      { name: 'b', from: 700, to: 1000 },
    ]);
    const counts: Record<string, number> = {};
    for (const u of users) {
      const v = variantOf(u, e).name;
      expect(variantOf(u, e).name).toBe(v);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(counts.b! / users.length).toBeGreaterThan(0.28);
    expect(counts.b! / users.length).toBeLessThan(0.32);
    expect(sharesOf(e)).toEqual({ control: 0.7, b: 0.3 });
  });

  it('moving one boundary reassigns only the listeners in the buckets it passes over', () => {
    const before = exp([
      { name: 'a', from: 0, to: 300 },
      { name: 'b', from: 300, to: 600 },
      { name: 'c', from: 600, to: 1000 },
    ]);
    // a shrinks to 200: only buckets 200–299 move (to control); b and c keep every listener.
    const after = exp([
      { name: 'a', from: 0, to: 200 },
      { name: 'b', from: 300, to: 600 },
      { name: 'c', from: 600, to: 1000 },
    ]);
    let moved = 0;
    for (const u of users) {
      const x = variantOf(u, before).name;
      const y = variantOf(u, after).name;
      if (x === y) continue;
      moved++;
      const b = bucketOf(u, before);
      expect(b >= 200 && b < 300, `${u} in bucket ${b} moved ${x} → ${y}`).toBe(true);
      expect(y).toBe(CONTROL);
    }
    expect(moved / users.length).toBeGreaterThan(0.08);
    expect(moved / users.length).toBeLessThan(0.12);
  });

  it('a new salt redraws the groups', () => {
    const a = exp([{ name: 'b', from: 0, to: 500 }]);
    const b = { ...a, salt: 's2' };
    const same = users.filter((u) => variantOf(u, a).name === variantOf(u, b).name).length;
    expect(same / users.length).toBeGreaterThan(0.45);
    expect(same / users.length).toBeLessThan(0.55);
  });

  it('names what is wrong with a declaration', () => {
    expect(experimentProblems(exp([{ name: 'control', from: 0, to: 1000 }]))).toEqual([]);
    const problems = experimentProblems(
      exp([
        { name: 'A b', from: 0, to: 10 },
        { name: 'x', from: 5, to: 20, ranking: { nope: 1, alpha: Number.NaN } },
        { name: 'x', from: 30, to: 2000 },
      ]),
    );
    expect(problems.join('\n')).toMatch(/variants\[0\]\.name/);
    expect(problems.join('\n')).toMatch(/variants\[1\]\.ranking\.nope: not a ranking parameter/);
    expect(problems.join('\n')).toMatch(/variants\[1\]\.ranking\.alpha: must be a finite number/);
    expect(problems.join('\n')).toMatch(/variants\[2\]\.name: x is declared twice/);
    expect(problems.join('\n')).toMatch(/variants\[2\]: from\/to/);
    expect(problems.join('\n')).toMatch(/overlap/);
  });

  it("the topology's declaration is sound (a deploy with a bad one fails here, not at a request)", () => {
    expect(experimentProblems(experiments)).toEqual([]);
  });

  it('overrides apply on top of the tuned ranking', () => {
    const p = rankingOf({ name: 'pop', from: 0, to: 1, ranking: { genreBlend: 1, popularityPrior: 1 } });
    expect(p).toEqual({ ...DEFAULT_RANKING, genreBlend: 1, popularityPrior: 1 });
    expect(rankingOf({ name: CONTROL, from: 0, to: 1 })).toEqual(DEFAULT_RANKING);
  });
});
