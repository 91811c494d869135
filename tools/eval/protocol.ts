import { rng as mulberry32 } from '../../shared/random.ts';

export { mulberry32 };
/**
 * The offline protocol (after Elliot's Last.fm setup): binarize, iterative k-core, seeded random
 * 80/20 hold-out, full-ranking top-k metrics. Pure functions, unit-tested on hand examples.
 */

export interface Interaction {
  user: string;
  item: string;
  /** Play count (the system may use it; metrics and baselines see only presence). */
  plays: number;
}

/** Drops duplicates (keeps the summed plays) — binarization keeps one pair per (user, item). */
export function dedupe(rows: readonly Interaction[]): Interaction[] {
  const m = new Map<string, Interaction>();
  for (const r of rows) {
    if (!(r.plays > 0)) continue;
    const k = `${r.user}\u0000${r.item}`;
    const cur = m.get(k);
    if (cur) cur.plays += r.plays;
    else m.set(k, { ...r });
  }
  return [...m.values()];
}

/** Iterative k-core: repeat dropping users and items with fewer than k interactions until stable. */
export function kCore(rows: readonly Interaction[], k: number): Interaction[] {
  let cur = rows.slice();
  for (;;) {
    const u = new Map<string, number>();
    const i = new Map<string, number>();
    for (const r of cur) {
      u.set(r.user, (u.get(r.user) ?? 0) + 1);
      i.set(r.item, (i.get(r.item) ?? 0) + 1);
    }
    const next = cur.filter((r) => u.get(r.user)! >= k && i.get(r.item)! >= k);
    if (next.length === cur.length) return next;
    cur = next;
  }
}

export interface Split {
  train: Interaction[];
  test: Interaction[];
}

/**
 * Random hold-out of `testRatio` of each user's interactions (Elliot's random_subsampling is
 * per user): users in id order, each user's items in id order, seeded Fisher–Yates, the first
 * round(testRatio·n) go to test. Deterministic for a seed whatever the input order.
 */
export function randomSplit(rows: readonly Interaction[], seed: number, testRatio = 0.2): Split {
  const rand = mulberry32(seed);
  const byUser = new Map<string, Interaction[]>();
  for (const r of rows) {
    const l = getOrInit(byUser, r.user, () => []);
    l.push(r);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const train: Interaction[] = [];
  const test: Interaction[] = [];
  for (const user of [...byUser.keys()].sort(cmp)) {
    const items = byUser.get(user)!.sort((a, b) => cmp(a.item, b.item));
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const nTest = Math.round(testRatio * items.length);
    for (let i = 0; i < items.length; i++) (i < nTest ? test : train).push(items[i]!);
  }
  return { train, test };
}

export interface Metrics {
  'precision@k': number;
  'recall@k': number;
  'ndcg@k': number;
  coverage: number;
  users: number;
}

/** Per-user binary-relevance metrics at k. nDCG: gain 1/log2(rank + 1), ideal over min(|relevant|, k). */
export function userMetrics(ranked: readonly string[], relevant: ReadonlySet<string>, k: number) {
  let hits = 0;
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) {
    if (relevant.has(ranked[r]!)) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
    }
  }
  let idcg = 0;
  for (let r = 0; r < Math.min(relevant.size, k); r++) idcg += 1 / Math.log2(r + 2);
  return {
    precision: hits / k,
    recall: relevant.size > 0 ? hits / relevant.size : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
  };
}

/** Averages over users with at least one test item; coverage = distinct recommended / catalog size. */
export function evaluateLists(
  lists: ReadonlyMap<string, readonly string[]>,
  testByUser: ReadonlyMap<string, ReadonlySet<string>>,
  k: number,
  catalogSize: number,
): Metrics {
  let p = 0;
  let r = 0;
  let n = 0;
  let users = 0;
  const seen = new Set<string>();
  for (const [user, relevant] of testByUser) {
    if (relevant.size === 0) continue;
    const ranked = (lists.get(user) ?? []).slice(0, k);
    for (const id of ranked) seen.add(id);
    const m = userMetrics(ranked, relevant, k);
    p += m.precision;
    r += m.recall;
    n += m.ndcg;
    users++;
  }
  const d = Math.max(users, 1);
  return {
    'precision@k': p / d,
    'recall@k': r / d,
    'ndcg@k': n / d,
    coverage: catalogSize > 0 ? seen.size / catalogSize : 0,
    users,
  };
}

/** Best k of `scores`, ties by id (the same order `topN` in recommend uses). */
export function topK(scores: ReadonlyMap<string, number>, k: number): string[] {
  const all = [...scores];
  all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return all.slice(0, k).map(([id]) => id);
}

/** `map.get(key)`, creating the entry with `init()` first when missing. */
export function getOrInit<K, V>(map: Map<K, V>, key: K, init: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = init();
    map.set(key, v);
  }
  return v;
}
