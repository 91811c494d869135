/**
 * The user-neighbour part of the ranking. Collaborative score of item i for a user with
 * neighbours v:
 *
 *   collab(i) = Σ_v sim(v)^α · norm_v(w_v(i)^γ) / pop(i)^β
 *
 * where w_v(i) is i's (positive) score in v's top list, norm_v divides by v's sum / max / L2 norm
 * (so heavy listeners do not dominate), and pop(i) ≥ 1 is an optional popularity (RP3beta-style
 * penalty; β = 0 disables it).
 */
import { DEFAULT_RANKING, type RankingParams } from './params.ts';
import type { CollaborativeScore, ItemScores, NeighborItems, PreparedItems } from './types.ts';

export interface ScoreOptions extends Partial<RankingParams> {
  /** Items never scored (already known to the user). */
  exclude?: ReadonlySet<string> | ((id: string) => boolean);
  /** Popularity for the β penalty (values < 1 count as 1; unknown ids are not penalized). */
  popularity?: ReadonlyMap<string, number> | ((id: string) => number | undefined);
}

/** Calls `fn` for each (id, score) of a plain or Map item list. */
export function forEachScore(items: ItemScores, fn: (id: string, w: number) => void): void {
  if (items instanceof Map) for (const [id, w] of items) fn(id, w);
  else for (const id in items as Record<string, number>) fn(id, (items as Record<string, number>)[id]!);
}

function isPrepared(t: ItemScores | PreparedItems): t is PreparedItems {
  return (t as PreparedItems).weights instanceof Float64Array && Array.isArray((t as PreparedItems).ids);
}

/**
 * Transform and normalize one user's items once, for reuse whenever that user is someone's
 * neighbour (offline evaluation: every user is a neighbour of many).
 */
export function prepareItems(
  topItems: ItemScores,
  opts: Partial<Pick<RankingParams, 'itemExponent' | 'normalize'>> = {},
): PreparedItems {
  const gamma = opts.itemExponent ?? DEFAULT_RANKING.itemExponent;
  const normalize = opts.normalize ?? DEFAULT_RANKING.normalize;
  const ids: string[] = [];
  const ws: number[] = [];
  forEachScore(topItems, (id, w) => {
    if (!(w > 0)) return;
    ids.push(id);
    ws.push(gamma === 1 ? w : w ** gamma);
  });
  let norm = 1;
  if (normalize === 'sum') norm = ws.reduce((a, b) => a + b, 0);
  else if (normalize === 'max') norm = ws.reduce((a, b) => Math.max(a, b), 0);
  else if (normalize === 'l2') norm = Math.sqrt(ws.reduce((a, b) => a + b * b, 0));
  const weights = new Float64Array(ws.length);
  if (norm > 0) for (let i = 0; i < ws.length; i++) weights[i] = ws[i]! / norm;
  return { ids, weights };
}

/**
 * Collaborative scores over plain maps (the core the offline evaluation runs). Accumulates into
 * `out` when given (reuse one Map across users to avoid allocation).
 */
export function scoreCandidates(
  neighbors: readonly NeighborItems[],
  opts: ScoreOptions = {},
  out: Map<string, CollaborativeScore> = new Map(),
): Map<string, CollaborativeScore> {
  const alpha = opts.alpha ?? DEFAULT_RANKING.alpha;
  const gamma = opts.itemExponent ?? DEFAULT_RANKING.itemExponent;
  const normalize = opts.normalize ?? DEFAULT_RANKING.normalize;
  const minSim = opts.minSimilarity ?? DEFAULT_RANKING.minSimilarity;
  const ex = opts.exclude;
  const isExcluded = ex === undefined ? undefined : typeof ex === 'function' ? ex : (id: string) => ex.has(id);
  const transform =
    gamma === 1 ? (w: number) => w : gamma === 0.5 ? (w: number) => Math.sqrt(w) : (w: number) => w ** gamma;

  const addItem = (id: string, add: number): void => {
    const cur = out.get(id);
    if (cur === undefined) out.set(id, { score: add, supporters: 1 });
    else {
      cur.score += add;
      cur.supporters++;
    }
  };

  for (const n of neighbors) {
    if (!(n.similarity > minSim)) continue;
    const s = alpha === 1 ? n.similarity : n.similarity ** alpha;
    const items = n.topItems;
    if (isPrepared(items)) {
      const { ids, weights } = items;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const w = weights[i]!;
        if (w > 0 && !isExcluded?.(id)) addItem(id, s * w);
      }
      continue;
    }
    let norm = 1;
    if (normalize !== 'none') {
      let acc = 0;
      forEachScore(items, (_id, w) => {
        if (!(w > 0)) return;
        const t = transform(w);
        if (normalize === 'sum') acc += t;
        else if (normalize === 'max') acc = Math.max(acc, t);
        else acc += t * t;
      });
      if (acc === 0) continue;
      norm = normalize === 'l2' ? Math.sqrt(acc) : acc;
    }
    const f = s / norm;
    forEachScore(items, (id, w) => {
      if (w > 0 && !isExcluded?.(id)) addItem(id, f * transform(w));
    });
  }

  const beta = opts.beta ?? DEFAULT_RANKING.beta;
  const pop = opts.popularity;
  if (beta !== 0 && pop !== undefined) {
    const get = typeof pop === 'function' ? pop : (id: string) => pop.get(id);
    for (const [id, c] of out) {
      const p = get(id);
      if (p !== undefined) c.score /= Math.max(1, p) ** beta;
    }
  }
  return out;
}

/** Best `n` entries by score, ties by id. */
export function topN<T extends { score: number }>(scores: ReadonlyMap<string, T>, n: number): [string, T][] {
  const all = [...scores];
  all.sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return all.length > n ? all.slice(0, n) : all;
}
