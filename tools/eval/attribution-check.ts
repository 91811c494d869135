/**
 * The online attribution replay's arithmetic, pure: what the attributor must report for a set of
 * served lists and later plays (counted here from the answers the read API gave), what it did
 * report (its counters summed per variant), the differences, and how many listeners the hit-rate
 * comparison of two variants needs before their 95 % intervals separate.
 */
import type { CounterRow } from '../../shared/adapters/dynamodb/experiments.ts';
import { ALL, positionField } from '../../shared/domain/experiments/attribution.ts';
import { apart, type RateInterval, wilson } from '../../shared/domain/experiments/confidence.ts';
import { mulberry32 } from './protocol.ts';

/** One answer of GET /users/{id}/recommendations as the replay kept it (items: data-set ids, in order). */
export interface ServedAnswer {
  user: string;
  recommendationId: string;
  variant: string;
  strategy: string;
  items: readonly string[];
}

/** Counter fields per variant: `lists` = route recommendations, `plays` = the all-plays series. */
export type VariantCounts = Record<string, { lists: Record<string, number>; plays: Record<string, number> }>;

const add = (o: Record<string, number>, f: string, n = 1) => {
  o[f] = (o[f] ?? 0) + n;
};

function slot(out: VariantCounts, variant: string) {
  out[variant] ??= { lists: {}, plays: {} };
  return out[variant];
}

/**
 * The exact counts for `answers` followed by one play of every test interaction (`tests`: user →
 * held-out items; `variantOfUser` for listeners without an answer). `explicit`: the plays of listed
 * items named their answer. `rounds` replays of the same plays: a list counts as "with a hit" once.
 */
export function expectedCounts(
  answers: readonly ServedAnswer[],
  tests: ReadonlyMap<string, ReadonlySet<string>>,
  variantOfUser: (user: string) => string,
  maxPositions: number,
  rounds: readonly { explicit: boolean }[],
): VariantCounts {
  const out: VariantCounts = {};
  const answered = new Map(answers.map((a) => [a.user, a] as const));
  for (const a of answers) {
    const s = slot(out, a.variant);
    add(s.lists, 'served');
    const relevant = tests.get(a.user) ?? new Set<string>();
    const positions = a.items.flatMap((item, i) => (relevant.has(item) ? [i + 1] : []));
    if (positions.length === 0 || rounds.length === 0) continue;
    add(s.lists, 'hitLists');
    for (const round of rounds)
      for (const p of positions) {
        add(s.lists, 'hits');
        add(s.lists, positionField(p, maxPositions));
        if (round.explicit) add(s.lists, 'explicit');
      }
  }
  for (const [user, items] of tests) {
    const a = answered.get(user);
    const s = slot(out, a?.variant ?? variantOfUser(user));
    const listed = a ? a.items.filter((i) => items.has(i)).length : 0;
    if (rounds.length === 0) continue;
    add(s.plays, 'plays', items.size * rounds.length);
    if (listed > 0) add(s.plays, 'recPlays', listed * rounds.length);
  }
  return out;
}

/**
 * What the attributor reports: its counters summed over hours and strategies per variant; rows of
 * any other route are returned apart (the replay serves recommendations only).
 */
export function liveCounts(rows: readonly CounterRow[]): { counts: VariantCounts; otherRoutes: string[] } {
  const out: VariantCounts = {};
  const otherRoutes = new Set<string>();
  for (const r of rows) {
    const s = slot(out, r.key.variant);
    const series = r.key.route === 'recommendations' ? s.lists : r.key.route === ALL ? s.plays : undefined;
    if (!series) {
      otherRoutes.add(r.key.route);
      continue;
    }
    for (const [f, n] of Object.entries(r.fields)) if (n !== 0) add(series, f, n);
  }
  return { counts: out, otherRoutes: [...otherRoutes] };
}

/** Every field that differs (a missing field is 0), as `variant series.field: live L ≠ offline E`. */
export function countMismatches(live: VariantCounts, expected: VariantCounts): string[] {
  const out: string[] = [];
  for (const variant of [...new Set([...Object.keys(live), ...Object.keys(expected)])].sort())
    for (const series of ['lists', 'plays'] as const) {
      const l = live[variant]?.[series] ?? {};
      const e = expected[variant]?.[series] ?? {};
      for (const f of [...new Set([...Object.keys(l), ...Object.keys(e)])].sort())
        if ((l[f] ?? 0) !== (e[f] ?? 0))
          out.push(`${variant} ${series}.${f}: live ${l[f] ?? 0} ≠ offline ${e[f] ?? 0}`);
    }
  return out;
}

/** Hit rate (lists with a hit / lists served) and its 95 % Wilson interval. */
export const hitRate = (c: Record<string, number> | undefined): RateInterval =>
  wilson(c?.hitLists ?? 0, c?.served ?? 0);

/** One listener's outcome: their variant and whether their list held a test item. */
export interface ListOutcome {
  variant: string;
  hit: boolean;
}

export const outcomesOf = (
  answers: readonly ServedAnswer[],
  tests: ReadonlyMap<string, ReadonlySet<string>>,
): ListOutcome[] =>
  answers.map((a) => ({ variant: a.variant, hit: a.items.some((i) => tests.get(a.user)?.has(i) ?? false) }));

export interface SubsampleResult {
  /** Listeners drawn (both variants together, as a deployment of that size would split them). */
  n: number;
  /** Share of the draws whose intervals were apart. */
  apartShare: number;
}

/**
 * Listeners needed, by subsampling: for n = step, 2·step, … up to every listener, `draws` seeded
 * random subsets of n listeners (without replacement); the share of draws in which the two
 * variants' Wilson intervals are apart. The answer is the smallest n at which that share reaches
 * each wanted level (undefined: not within the listeners there are).
 */
export function listenersNeeded(
  outcomes: readonly ListOutcome[],
  a: string,
  b: string,
  opts: { step: number; draws: number; seed: number; levels: readonly number[] },
): { curve: SubsampleResult[]; needed: Record<string, number | undefined> } {
  const rnd = mulberry32(opts.seed);
  const pool = [...outcomes];
  const curve: SubsampleResult[] = [];
  for (let n = opts.step; n < pool.length + opts.step; n += opts.step) {
    const size = Math.min(n, pool.length);
    let apartDraws = 0;
    for (let d = 0; d < opts.draws; d++) {
      // Partial Fisher–Yates: the first `size` entries are a uniform subset.
      const tally = { [a]: [0, 0], [b]: [0, 0] } as Record<string, [number, number]>;
      for (let i = 0; i < size; i++) {
        const j = i + Math.floor(rnd() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
        const t = tally[pool[i]!.variant];
        if (!t) continue;
        t[0] += pool[i]!.hit ? 1 : 0;
        t[1]++;
      }
      if (apart(wilson(tally[a]![0], tally[a]![1]), wilson(tally[b]![0], tally[b]![1]))) apartDraws++;
    }
    curve.push({ n: size, apartShare: apartDraws / opts.draws });
    if (size === pool.length) break;
  }
  const needed: Record<string, number | undefined> = {};
  for (const level of opts.levels) needed[String(level)] = curve.find((c) => c.apartShare >= level)?.n;
  return { curve, needed };
}

const Z95 = 1.959963984540054;
/** Standard normal quantile for the powers reported (no inverse-CDF dependency for two values). */
const Z_POWER: Record<string, number> = { '0.5': 0, '0.8': 0.8416212335729143 };

/**
 * Listeners needed, by a power calculation from the observed rates (normal approximation): the
 * total n (two equal arms) at which the two 95 % intervals are apart with the given probability,
 * i.e. d·√m ≥ z·(s₁ + s₂) + z_power·√(s₁² + s₂²) per arm m, s = √(p(1−p)). Undefined when the
 * rates are equal.
 */
export function powerListeners(p1: number, p2: number, power: '0.5' | '0.8'): number | undefined {
  const d = Math.abs(p1 - p2);
  if (d === 0) return undefined;
  const s1 = Math.sqrt(p1 * (1 - p1));
  const s2 = Math.sqrt(p2 * (1 - p2));
  const perArm = ((Z95 * (s1 + s2) + Z_POWER[power]! * Math.sqrt(s1 * s1 + s2 * s2)) / d) ** 2;
  return 2 * Math.ceil(perArm);
}
