/**
 * Item–item neighbours (RP3beta-style transition probabilities, Paudel et al.) and content (tag)
 * neighbours: how the item model's lists are built (the ranking scores with them in ranking/item-lists.ts).
 *
 * For users' item sets on the binarized interaction graph:
 *
 *   W[i, j] = Σ_{u ∋ i, j} (1 / deg(i))^α · (1 / |u|)^α  ·  deg(j)^−β      (i ≠ j)
 *
 * i.e. the α-damped probability of the walk i → u → j, with j's popularity penalized by β; each
 * row keeps its `topK` largest entries. A user's item score is Σ_{i ∈ own items} W[i, j].
 *
 * In the pipeline the lists are an item attribute ("artists co-listened with this one") built by a
 * periodic job over the users' artist sets (the same profiles the neighbour updater reads); see
 * EVALUATION.md for the cost.
 */

import type { PreparedItems } from '../ranking/types.ts';
import type { SparseVector } from '../similarity.ts';

export type { PreparedItems };

export interface ItemGraphParams {
  /** Damping exponent α on both transition probabilities (1 = plain probabilities). */
  alpha: number;
  /** Popularity penalty exponent β on the target item's degree. */
  beta: number;
  /** Entries kept per item. */
  topK: number;
}

export const DEFAULT_ITEM_GRAPH: Readonly<ItemGraphParams> = Object.freeze({ alpha: 0.7, beta: 0.4, topK: 200 });

/** Item → its top-K neighbours (ids by weight, ties by id), from each user's set of items. */
export function itemNeighborLists(
  userItems: Iterable<readonly string[]>,
  p: Readonly<ItemGraphParams> = DEFAULT_ITEM_GRAPH,
): Map<string, PreparedItems> {
  const index = new Map<string, number>();
  const ids: string[] = [];
  const rows: number[][] = [];
  for (const items of userItems) {
    const row: number[] = [];
    for (const id of new Set(items)) {
      let i = index.get(id);
      if (i === undefined) {
        i = ids.length;
        index.set(id, i);
        ids.push(id);
      }
      row.push(i);
    }
    if (row.length > 0) rows.push(row);
  }
  const degree = new Float64Array(ids.length);
  for (const row of rows) for (const i of row) degree[i]!++;
  const acc: Map<number, number>[] = ids.map(() => new Map());
  for (const row of rows) {
    const userStep = (1 / row.length) ** p.alpha;
    for (const i of row) {
      const w = (1 / degree[i]!) ** p.alpha * userStep;
      const m = acc[i]!;
      for (const j of row) if (j !== i) m.set(j, (m.get(j) ?? 0) + w);
    }
  }
  const penalty = Float64Array.from(degree, (d) => (d > 0 ? d ** -p.beta : 0));
  const out = new Map<string, PreparedItems>();
  for (let i = 0; i < ids.length; i++) {
    const entries: [string, number][] = [];
    for (const [j, w] of acc[i]!) entries.push([ids[j]!, w * penalty[j]!]);
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const top = entries.slice(0, Math.max(0, p.topK));
    out.set(ids[i]!, { ids: top.map((e) => e[0]), weights: Float64Array.from(top, (e) => e[1]) });
  }
  return out;
}

/**
 * TF-IDF tag vectors log(1 + count) · log(N / df(tag)) over the N items given, L2-normalized
 * (tags every item carries weigh 0; an item without tags gets an empty vector).
 */
export function tagVectors(itemTags: ReadonlyMap<string, Readonly<Record<string, number>>>): Map<string, SparseVector> {
  const df = new Map<string, number>();
  for (const tags of itemTags.values()) for (const t in tags) if (tags[t]! > 0) df.set(t, (df.get(t) ?? 0) + 1);
  const n = itemTags.size;
  const out = new Map<string, SparseVector>();
  for (const [id, tags] of itemTags) {
    const v: SparseVector = new Map();
    let norm = 0;
    for (const t in tags) {
      const c = tags[t]!;
      if (!(c > 0)) continue;
      const x = Math.log1p(c) * Math.log(n / df.get(t)!);
      if (!(x > 0)) continue;
      v.set(t, x);
      norm += x * x;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [t, x] of v) v.set(t, x * inv);
    out.set(id, v);
  }
  return out;
}

/**
 * Content neighbours from item tag counts (e.g. Last.fm artist tags): TF-IDF vectors
 * log(1 + count) · log(N / df(tag)) over the N items given, L2-normalized; an item's list holds
 * the `topK` items of highest cosine (ties by id). Items without tags get an empty list.
 */
export function contentNeighborLists(
  itemTags: ReadonlyMap<string, Readonly<Record<string, number>>>,
  topK: number,
): Map<string, PreparedItems> {
  const tfidf = tagVectors(itemTags);
  const ids = [...tfidf.keys()];
  const n = ids.length;
  const vectors = ids.map((id) => tfidf.get(id)!);
  // Inverted index: only items sharing a tag are compared.
  const byTag = new Map<string, number[]>();
  vectors.forEach((v, i) => {
    for (const t of v.keys()) {
      let l = byTag.get(t);
      if (!l) {
        l = [];
        byTag.set(t, l);
      }
      l.push(i);
    }
  });
  const out = new Map<string, PreparedItems>();
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const touched: number[] = [];
    for (const [t, x] of vectors[i]!) {
      for (const j of byTag.get(t)!) {
        if (j === i) continue;
        if (acc[j] === 0) touched.push(j);
        acc[j]! += x * vectors[j]!.get(t)!;
      }
    }
    const entries: [string, number][] = [];
    for (const j of touched) {
      if (acc[j]! > 0) entries.push([ids[j]!, acc[j]!]);
      acc[j] = 0;
    }
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const top = entries.slice(0, Math.max(0, topK));
    out.set(ids[i]!, { ids: top.map((e) => e[0]), weights: Float64Array.from(top, (e) => e[1]) });
  }
  return out;
}
