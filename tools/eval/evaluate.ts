/**
 * System under test and baselines on one train/test split. The system is the pipeline's own
 * domain code: profiles from `buildProfile` (one play event per training pair, weight 1 by default),
 * neighbours by `similarity` over `tasteFeatures` (IDF-weighted artists), item–item and content
 * lists by the item model's SQL on DuckDB (sql-model.ts: the product's batch layer; artist tags
 * without held-out pairs' rows), ranking by `recommend` (which runs `scoreCandidates` and blends the item and
 * content scores) over the whole catalog with the user's training items excluded.
 */

import type { GenreWeights } from '../../shared/domain/genres.ts';
import { DEFAULT_ITEM_MODEL, type ItemModel } from '../../shared/domain/item-model/item-model.ts';
import { tagVectors } from '../../shared/domain/item-model/item-neighbors.ts';
import { cellOf } from '../../shared/domain/neighbors/neighbor-cells.ts';
import {
  type IndexCandidate,
  indexTaste,
  NeighborSearch,
  type SearchBudget,
} from '../../shared/domain/neighbors/neighbor-search.ts';
import { decodeVector, encodeVector } from '../../shared/domain/neighbors/taste-codec.ts';
import { buildProfile, type Profile, profileUpdateOf } from '../../shared/domain/profile/profile.ts';
import { DEFAULT_RANKING, type RankingParams } from '../../shared/domain/ranking/params.ts';
import { recommend } from '../../shared/domain/ranking/rank.ts';
import type { CandidateItem, NeighborItems, PreparedItems } from '../../shared/domain/ranking/types.ts';
import { prepareItems } from '../../shared/domain/ranking/user-neighbors.ts';
import {
  DEFAULT_SIMILARITY_WEIGHTS,
  genreVector,
  idfWeight,
  type SparseVector,
  similarity,
  type TasteFeatures,
  tagProfile,
  tasteFeatures,
} from '../../shared/domain/similarity.ts';
import { settings } from '../../shared/topology.ts';
import { evaluateLists, getOrInit, type Interaction, type Metrics, topK } from './protocol.ts';

export interface SystemParams extends RankingParams {
  /** Neighbours per user. */
  neighbors: number;
  /** Event weight from play count: log(1 + plays) or 1. */
  playWeight: 'log' | 'binary';
  genreWeight: number;
  artistWeight: number;
  asymmetry: number;
  /** Exponent on profile artist scores in the similarity features (0 = set overlap). */
  featureExponent: number;
  /** Weight of the users' tag-profile cosine in the neighbour similarity (needs `EvalData.tags`). */
  tagWeight: number;
  /** Tags kept in a user's tag profile (0 = all). */
  tagLimit: number;
  /** IDF exponent p: artist features weighted by listeners^−p (training listener counts); 0 = off. */
  idf: number;
  /** Item–item neighbour lists (item-neighbors.ts), used with itemBlend > 0: α, β, top-K. */
  itemAlpha: number;
  itemBeta: number;
  itemTopK: number;
  /** Content (tag) neighbours kept per item, used with contentBlend > 0 and `EvalData.tags`. */
  contentTopK: number;
}

/** The cache key of a model: the parameters the SQL takes from the system's. */
export function itemModelKey(p: Pick<SystemParams, 'itemAlpha' | 'itemBeta' | 'itemTopK' | 'contentTopK'>): string {
  return JSON.stringify([p.itemAlpha, p.itemBeta, p.itemTopK, p.contentTopK]);
}

/** The tuned defaults (chosen by mean nDCG@10 over the validation splits of seeds 42, 1, 2; see EVALUATION.md). */
export const DEFAULT_SYSTEM: Readonly<SystemParams> = Object.freeze({
  // Ranking and item model: the product's own defaults (the read API and the item model builder
  // use the same objects), so the harness cannot drift from what is deployed.
  ...DEFAULT_RANKING,
  itemAlpha: DEFAULT_ITEM_MODEL.alpha,
  itemBeta: DEFAULT_ITEM_MODEL.beta,
  itemTopK: DEFAULT_ITEM_MODEL.topK,
  contentTopK: DEFAULT_ITEM_MODEL.contentTopK,
  // User similarity of the exact search (the deployed index search has its own settings).
  neighbors: 100,
  playWeight: 'binary',
  genreWeight: 0,
  tagWeight: 0.2,
  tagLimit: 100,
  artistWeight: DEFAULT_SIMILARITY_WEIGHTS.artistWeight,
  asymmetry: DEFAULT_SIMILARITY_WEIGHTS.asymmetry ?? 0.5,
  featureExponent: 1,
  idf: 0.4,
});

/** `key=value,...` overrides of `DEFAULT_SYSTEM` (as `--set` takes them); numbers parsed, keys checked. */
export function parseSystemParams(s: string | undefined): Partial<SystemParams> {
  const out: Record<string, unknown> = {};
  if (!s) return out;
  for (const kv of s.split(',')) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined || !(k in DEFAULT_SYSTEM)) throw new Error(`--set: unknown or malformed "${kv}"`);
    out[k] = typeof (DEFAULT_SYSTEM as Record<string, unknown>)[k] === 'number' ? Number(v) : v;
    if (Number.isNaN(out[k])) throw new Error(`--set: ${k} must be a number`);
  }
  return out as Partial<SystemParams>;
}

export interface EvalData {
  train: readonly Interaction[];
  test: readonly Interaction[];
  /** Catalog: every item of the filtered data set. */
  items: readonly string[];
  genres: ReadonlyMap<string, GenreWeights>;
  /** Item → tag counts for the content neighbours (must leave out held-out pairs' tags). */
  tags?: ReadonlyMap<string, Readonly<Record<string, number>>>;
  k: number;
}

const TS = Date.UTC(2011, 0, 1); // one timestamp: offline data has no times, so no decay applies

export function groupByUser(rows: readonly Interaction[]): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const u = getOrInit(m, r.user, () => new Map());
    u.set(r.item, r.plays);
  }
  return m;
}

function testSets(test: readonly Interaction[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const [u, items] of groupByUser(test)) m.set(u, new Set(items.keys()));
  return m;
}

function itemCounts(train: readonly Interaction[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const r of train) c.set(r.item, (c.get(r.item) ?? 0) + 1);
  return c;
}

export function buildProfiles(data: EvalData, playWeight: 'log' | 'binary'): Map<string, Profile> {
  const out = new Map<string, Profile>();
  for (const [user, items] of groupByUser(data.train)) {
    const events = [...items].map(([item, plays]) => ({
      eventId: `${user}/${item}`,
      artistId: item,
      ts: TS,
      type: 'play' as const,
      plays,
    }));
    out.set(
      user,
      buildProfile(user, events, {
        weightOf: (e) => (playWeight === 'log' ? Math.log1p(e.plays) : 1),
        genresOf: (e) => data.genres.get(e.artistId),
        topArtistsCapacity: Math.max(100, items.size),
      }),
    );
  }
  return out;
}

/** Exact top-K neighbours by `similarity`, among users sharing at least one artist (others score only by genre). */
export function neighborLists(
  profiles: ReadonlyMap<string, Profile>,
  p: Pick<SystemParams, 'neighbors' | 'genreWeight' | 'artistWeight' | 'asymmetry' | 'featureExponent'> &
    Partial<Pick<SystemParams, 'idf' | 'tagWeight' | 'tagLimit'>>,
  listeners?: ReadonlyMap<string, number>,
  itemTagVectors?: ReadonlyMap<string, SparseVector>,
): Map<string, { userId: string; similarity: number }[]> {
  const users = [...profiles.keys()];
  const feats = new Map<string, TasteFeatures>();
  const byItem = new Map<string, string[]>();
  const itemWeight = p.idf && listeners ? idfWeight(listeners, p.idf) : undefined;
  for (const u of users) {
    const prof = profiles.get(u)!;
    const f = tasteFeatures(prof, 'topArtists', { itemExponent: p.featureExponent, itemWeight });
    if (p.tagWeight && itemTagVectors)
      f.tags = tagProfile(prof.topArtists, (id) => itemTagVectors.get(id), p.tagLimit || undefined);
    feats.set(u, f);
    for (const a in prof.topArtists) {
      const l = getOrInit(byItem, a, () => []);
      l.push(u);
    }
  }
  const weights = {
    genreWeight: p.genreWeight,
    artistWeight: p.artistWeight,
    asymmetry: p.asymmetry,
    tagWeight: itemTagVectors ? (p.tagWeight ?? 0) : 0,
  };
  const out = new Map<string, { userId: string; similarity: number }[]>();
  for (const u of users) {
    const cands = new Set<string>();
    for (const a in profiles.get(u)!.topArtists) for (const v of byItem.get(a)!) if (v !== u) cands.add(v);
    const fu = feats.get(u)!;
    const scored: { userId: string; similarity: number }[] = [];
    for (const v of cands) scored.push({ userId: v, similarity: similarity(fu, feats.get(v)!, weights) });
    scored.sort((a, b) => b.similarity - a.similarity || (a.userId < b.userId ? -1 : 1));
    out.set(u, scored.slice(0, p.neighbors));
  }
  return out;
}

/** How neighbours are picked: exact `similarity` over full profiles, or the deployed index search. */
export type NeighborMode = 'exact' | 'index';

/** The deployed search budget (settings NEIGHBOR_MAX_CELLS / NEIGHBOR_MAX_ITEMS). */
export const DEPLOYED_BUDGET: Readonly<SearchBudget> = Object.freeze({
  maxCells: settings.NEIGHBOR_MAX_CELLS,
  maxItems: settings.NEIGHBOR_MAX_ITEMS,
});

/**
 * Neighbours as the deployed `neighbor-updater` finds them: every user's `profileUpdateOf` record
 * is indexed like the handler does (quantized genre vector in its cell + artist sketch), and each
 * user runs the same `NeighborSearch` (cells by genre within the budget, ranked by `neighborScore`).
 */
export function indexNeighborLists(
  profiles: ReadonlyMap<string, Profile>,
  p: Pick<SystemParams, 'neighbors' | 'genreWeight' | 'artistWeight'>,
  budget: SearchBudget = DEPLOYED_BUDGET,
  itemWeight?: (id: string) => number,
): { lists: Map<string, { userId: string; similarity: number }[]>; itemsRead: number; cellsRead: number } {
  const cells = new Map<string, IndexCandidate[]>();
  const queries = new Map<string, ReturnType<typeof indexTaste>>();
  for (const [u, prof] of profiles) {
    const upd = profileUpdateOf(prof);
    const vector = genreVector(upd.genres);
    const stored = decodeVector(encodeVector(vector));
    getOrInit(cells, cellOf(stored), () => []).push({ userId: u, taste: indexTaste(stored, upd.artists, itemWeight) });
    queries.set(u, indexTaste(vector, upd.artists, itemWeight));
  }
  const weights = { genreWeight: p.genreWeight, artistWeight: p.artistWeight };
  const lists = new Map<string, { userId: string; similarity: number }[]>();
  let itemsRead = 0;
  let cellsRead = 0;
  for (const [u, q] of queries) {
    const search = new NeighborSearch(q, u, p.neighbors, budget, cells, weights);
    for (let wave = search.nextCells(); wave; wave = search.nextCells()) {
      cellsRead += wave.length;
      for (const c of wave) search.offer(cells.get(c) ?? []);
    }
    itemsRead += search.itemsSeen;
    lists.set(u, search.result());
  }
  return { lists, itemsRead, cellsRead };
}

export function catalogOf(data: EvalData, counts: ReadonlyMap<string, number>): CandidateItem[] {
  let max = 1;
  for (const c of counts.values()) max = Math.max(max, c);
  return data.items.map((id) => ({
    id,
    genres: data.genres.get(id) ?? {},
    popularity: (100 * (counts.get(id) ?? 0)) / max,
  }));
}

export const MAX_NEIGHBORS = 400;

/** Neighbour lists by similarity parameters (they are the expensive part of a tuning run). */
export type NeighborCache = Map<string, Map<string, { userId: string; similarity: number }[]>>;

export function runSystem(
  data: EvalData,
  params: Partial<SystemParams> = {},
  cache: {
    profiles?: Map<string, Map<string, Profile>>;
    neighbors?: NeighborCache;
    models?: Map<string, ItemModel>;
    tagVectors?: Map<string, SparseVector> | undefined;
  } = {},
  mode: NeighborMode = 'exact',
): { metrics: Metrics; lists: Map<string, string[]> } {
  const p: SystemParams = { ...DEFAULT_SYSTEM, ...params };
  if (p.neighbors > MAX_NEIGHBORS) throw new Error(`neighbors must be at most ${MAX_NEIGHBORS}`);
  cache.profiles ??= new Map();
  const profiles = getOrInit(cache.profiles, p.playWeight, () => buildProfiles(data, p.playWeight));
  // Lists are cached longest-first (K only slices them), so trying several K costs one similarity pass.
  // Index mode: K bounds the search itself (its early stop), so it is part of the key.
  const nkey = JSON.stringify(
    mode === 'exact'
      ? [p.playWeight, p.genreWeight, p.artistWeight, p.asymmetry, p.featureExponent, p.idf, p.tagWeight, p.tagLimit]
      : [mode, p.playWeight, p.genreWeight, p.artistWeight, p.neighbors, p.idf],
  );
  // The item model as the product builds it: the item model's SQL over the training events as an
  // archive, with the catalog's tags (listener counts, co-listening and content lists); built
  // beforehand by `prepareItemModel` (sql-model.ts; DuckDB is asynchronous, this is not).
  const catalogTags = data.tags ? new Map(data.items.map((id) => [id, data.tags!.get(id) ?? {}] as const)) : undefined;
  const model = cache.models?.get(itemModelKey(p));
  if (!model)
    throw new Error(`no item model for ${itemModelKey(p)}: await prepareItemModel(data, params, cache) first`);
  const counts = model.listeners;
  // TF-IDF artist tag vectors over the catalog (held-out pairs' tag rows are already left out).
  cache.tagVectors ??= catalogTags ? tagVectors(catalogTags) : undefined;
  cache.neighbors ??= new Map();
  const nlists = getOrInit(cache.neighbors, nkey, () =>
    mode === 'exact'
      ? neighborLists(profiles, { ...p, neighbors: MAX_NEIGHBORS }, counts, cache.tagVectors)
      : indexNeighborLists(profiles, p, DEPLOYED_BUDGET, p.idf ? idfWeight(counts, p.idf) : undefined).lists,
  );
  const itemLists = p.itemBlend > 0 ? model.similar : undefined;
  const contentLists = p.contentBlend > 0 && data.tags ? model.content : undefined;

  const candidates = catalogOf(data, counts);
  const prepared = new Map<string, PreparedItems>();
  for (const [u, prof] of profiles) prepared.set(u, prepareItems(prof.topArtists, p));
  const tests = testSets(data.test);
  const lists = new Map<string, string[]>();
  for (const user of tests.keys()) {
    const profile = profiles.get(user);
    const neighbors: NeighborItems[] = (nlists.get(user) ?? []).slice(0, p.neighbors).map((n) => ({
      userId: n.userId,
      similarity: n.similarity,
      topItems: prepared.get(n.userId)!,
    }));
    const res = recommend({
      profile,
      neighbors,
      kind: 'artist',
      candidates,
      popularity: counts,
      ...(itemLists ? { itemNeighbors: (id: string) => itemLists.get(id) } : {}),
      ...(contentLists ? { contentNeighbors: (id: string) => contentLists.get(id) } : {}),
      limit: data.k,
      params: p,
    });
    lists.set(
      user,
      res.items.map((i) => i.id),
    );
  }
  return { metrics: evaluateLists(lists, tests, data.k, data.items.length), lists };
}

export function runMostPop(data: EvalData): Metrics {
  const counts = itemCounts(data.train);
  const ranked = topK(counts, Number.POSITIVE_INFINITY);
  const trainBy = groupByUser(data.train);
  const tests = testSets(data.test);
  const lists = new Map<string, string[]>();
  for (const user of tests.keys()) {
    const own = trainBy.get(user);
    const l: string[] = [];
    for (const id of ranked) {
      if (own?.has(id)) continue;
      l.push(id);
      if (l.length === data.k) break;
    }
    lists.set(user, l);
  }
  return evaluateLists(lists, tests, data.k, data.items.length);
}

/** Exact UserKNN: cosine on binarized vectors, top-`k` neighbours, score(i) = Σ sim(u, v)·[v has i]. */
export function runUserKnn(data: EvalData, neighbors = 100): Metrics {
  const trainBy = groupByUser(data.train);
  const byItem = new Map<string, string[]>();
  for (const [u, items] of trainBy)
    for (const i of items.keys()) {
      const l = getOrInit(byItem, i, () => []);
      l.push(u);
    }
  const tests = testSets(data.test);
  const lists = new Map<string, string[]>();
  for (const user of tests.keys()) {
    const own = trainBy.get(user);
    if (!own) {
      lists.set(user, []);
      continue;
    }
    const overlap = new Map<string, number>();
    for (const i of own.keys())
      for (const v of byItem.get(i)!) if (v !== user) overlap.set(v, (overlap.get(v) ?? 0) + 1);
    const sims = [...overlap].map(([v, o]) => [v, o / Math.sqrt(own.size * trainBy.get(v)!.size)] as [string, number]);
    sims.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const scores = new Map<string, number>();
    for (const [v, s] of sims.slice(0, neighbors))
      for (const i of trainBy.get(v)!.keys()) if (!own.has(i)) scores.set(i, (scores.get(i) ?? 0) + s);
    lists.set(user, topK(scores, data.k));
  }
  return evaluateLists(lists, tests, data.k, data.items.length);
}

export interface Rp3betaParams {
  alpha: number;
  beta: number;
  /** Neighbours kept per item row of the similarity matrix. */
  topK: number;
}

/** Defaults chosen on the validation split (EVALUATION.md); the same grid for every seed. */
export const DEFAULT_RP3BETA: Readonly<Rp3betaParams> = Object.freeze({ alpha: 0.7, beta: 0.4, topK: 200 });

/**
 * RP3beta (Paudel et al.; the strongest published baseline on this protocol): a 3-step random
 * walk item → user → item on the binarized training graph, W = (P_iu)^α (P_ui)^α, columns divided
 * by popularity^β, top-K per row; score(u, j) = Σ_{i ∈ u} W[i, j].
 */
export function runRp3beta(data: EvalData, p: Rp3betaParams = DEFAULT_RP3BETA): Metrics {
  const trainBy = groupByUser(data.train);
  const index = new Map(data.items.map((id, i) => [id, i] as const));
  const n = data.items.length;
  const degree = new Float64Array(n);
  const rows: number[][] = [];
  for (const items of trainBy.values()) {
    const row = [...items.keys()].map((id) => index.get(id)!);
    rows.push(row);
    for (const i of row) degree[i]!++;
  }
  const W = new Float64Array(n * n);
  for (const row of rows) {
    const userStep = (1 / row.length) ** p.alpha;
    for (const i of row) {
      const w = (1 / degree[i]!) ** p.alpha * userStep;
      for (const j of row) if (j !== i) W[i * n + j]! += w;
    }
  }
  const penalty = Float64Array.from(degree, (d) => (d > 0 ? d ** -p.beta : 0));
  const kept: { j: number; w: number }[][] = [];
  for (let i = 0; i < n; i++) {
    const row: { j: number; w: number }[] = [];
    for (let j = 0; j < n; j++) {
      const w = W[i * n + j]! * penalty[j]!;
      if (w > 0) row.push({ j, w });
    }
    row.sort((a, b) => b.w - a.w || a.j - b.j);
    kept.push(row.slice(0, p.topK));
  }
  const tests = testSets(data.test);
  const lists = new Map<string, string[]>();
  for (const user of tests.keys()) {
    const own = trainBy.get(user);
    const scores = new Map<string, number>();
    for (const id of own?.keys() ?? []) {
      for (const { j, w } of kept[index.get(id)!]!) {
        const item = data.items[j]!;
        if (!own!.has(item)) scores.set(item, (scores.get(item) ?? 0) + w);
      }
    }
    lists.set(user, topK(scores, data.k));
  }
  return evaluateLists(lists, tests, data.k, data.items.length);
}
