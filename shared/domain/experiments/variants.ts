/**
 * Ranking variants: a listener's variant is a pure function of their id and the declared bucket
 * ranges (shared/topology.ts `experiments`), so every function and every container agrees without
 * storing it, and moving one boundary moves only the listeners in the buckets it passes over.
 */
import type { RankingParams } from '../ranking/params.ts';
import { DEFAULT_RANKING } from '../ranking/params.ts';

export interface Variant {
  readonly name: string;
  /** Buckets [from, to) of `buckets`. */
  readonly from: number;
  readonly to: number;
  readonly ranking?: Readonly<Record<string, number>> | undefined;
  readonly session?: boolean | undefined;
  readonly description?: string | undefined;
}

export interface Experiment {
  readonly salt: string;
  readonly buckets: number;
  readonly variants: readonly Variant[];
}

/** The variant of listeners no declared range covers. */
export const CONTROL = 'control';
const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const RANKING_KEYS = new Set(
  Object.keys(DEFAULT_RANKING).filter((k) => typeof DEFAULT_RANKING[k as keyof RankingParams] === 'number'),
);

/** Problems with a declaration, each naming the variant and field; empty when it is sound. */
export function experimentProblems(e: Experiment): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(e.buckets) || e.buckets < 1 || e.buckets > 1_000_000)
    problems.push('buckets: must be an integer 1–1,000,000');
  if (typeof e.salt !== 'string' || e.salt.length === 0) problems.push('salt: must be a non-empty string');
  const seen = new Set<string>();
  const ranges: [number, number, string][] = [];
  e.variants.forEach((v, i) => {
    const at = `variants[${i}]`;
    if (!NAME.test(v.name)) problems.push(`${at}.name: must match ${NAME} (got ${JSON.stringify(v.name)})`);
    if (seen.has(v.name)) problems.push(`${at}.name: ${v.name} is declared twice`);
    seen.add(v.name);
    if (!Number.isInteger(v.from) || !Number.isInteger(v.to) || v.from < 0 || v.to > e.buckets || v.from >= v.to)
      problems.push(`${at}: from/to must be integers with 0 ≤ from < to ≤ ${e.buckets} (got ${v.from}, ${v.to})`);
    else ranges.push([v.from, v.to, v.name]);
    for (const [k, x] of Object.entries(v.ranking ?? {})) {
      if (!RANKING_KEYS.has(k))
        problems.push(`${at}.ranking.${k}: not a ranking parameter (${[...RANKING_KEYS].join(', ')})`);
      else if (typeof x !== 'number' || !Number.isFinite(x))
        problems.push(`${at}.ranking.${k}: must be a finite number`);
    }
  });
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]![0] < ranges[i - 1]![1]) problems.push(`variants ${ranges[i - 1]![2]} and ${ranges[i]![2]} overlap`);
  return problems;
}

/** 32-bit FNV-1a of salt + ':' + userId: stable across runtimes and releases. */
export function bucketOf(userId: string, e: Pick<Experiment, 'salt' | 'buckets'>): number {
  let h = 0x811c9dc5;
  const s = `${e.salt}:${userId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % e.buckets;
}

const controlVariant = (e: Experiment): Variant =>
  e.variants.find((v) => v.name === CONTROL) ?? { name: CONTROL, from: 0, to: 0 };

/** The listener's variant: the one whose range holds their bucket, else `control`. */
export function variantOf(userId: string, e: Experiment): Variant {
  const b = bucketOf(userId, e);
  for (const v of e.variants) if (b >= v.from && b < v.to) return v;
  return controlVariant(e);
}

/** The ranking parameters of a variant: the tuned defaults with its overrides. */
export function rankingOf(v: Variant): RankingParams {
  return { ...DEFAULT_RANKING, ...(v.ranking ?? {}) } as RankingParams;
}

/** The share of listeners each variant gets (bucket count / buckets), `control` taking the rest. */
export function sharesOf(e: Experiment): Record<string, number> {
  const out: Record<string, number> = {};
  let covered = 0;
  for (const v of e.variants) {
    out[v.name] = (out[v.name] ?? 0) + (v.to - v.from) / e.buckets;
    covered += v.to - v.from;
  }
  if (covered < e.buckets) out[CONTROL] = (out[CONTROL] ?? 0) + (e.buckets - covered) / e.buckets;
  return out;
}
