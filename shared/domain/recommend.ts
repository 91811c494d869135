/**
 * Ranking. Collaborative score of item i for a user with neighbours v:
 *
 *   collab(i) = Σ_v sim(v)^α · norm_v(w_v(i)^γ) / pop(i)^β
 *
 * where w_v(i) is i's (positive) score in v's top list, norm_v divides by v's sum / max / L2 norm
 * (so heavy listeners do not dominate), and pop(i) ≥ 1 is an optional popularity (RP3beta-style
 * penalty; β = 0 disables it). The final score blends the max-normalized collaborative score with
 * a genre match (cosine of item genres vs the user's genre vector), itself mixed with popularity:
 *
 *   score(i) = (1 − λ) · collab(i) / max collab + λ · ((1 − μ) · genreMatch(i) + μ · pop(i) / max pop)
 *
 * With item–item neighbour lists (`itemNeighbors`, see item-neighbors.ts) and itemBlend ω > 0 the
 * collaborative score is itself a blend of the user-neighbour and the item-neighbour scores, each
 * max-normalized:
 *
 *   collab'(i) = (1 − ω) · collab(i) / max collab + ω · itemScore(i) / max itemScore
 *                + κ · contentScore(i) / max contentScore
 *
 * where contentScore sums the content (tag) neighbour lists of the user's items (`contentNeighbors`,
 * weight κ = contentBlend; see `contentNeighborLists`).
 *
 * Users without neighbours get the genre part alone ('genre'); users without taste get popular
 * items ('popular'). Ties break by id. One idea (~500 lines): the formula above and its parts —
 * the item-list and content scores it blends and the ranking tail candidates.ts reuses.
 */

import { GENRE_COUNT, GENRE_INDEX, GENRES, type GenreWeights, genreLabel, primaryGenre, tagToGenre } from './genres.ts';
import { type PreparedItems, scoreItemNeighbors } from './item-neighbors.ts';
import type { Profile } from './profile.ts';
import { cosine, genreVector } from './similarity.ts';

export type ItemScores = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

// Declared with the item lists (item-neighbors.ts) so that module does not import this one back.
export type { PreparedItems } from './item-neighbors.ts';

export interface NeighborItems {
  userId: string;
  similarity: number;
  /**
   * The neighbour's top tracks or artists: id → score (non-positive scores are ignored), or
   * `prepareItems` output (then `itemExponent` / `normalize` were applied at preparation).
   */
  topItems: ItemScores | PreparedItems;
}

export interface CandidateItem {
  id: string;
  genres: GenreWeights;
  /** 0–100 catalog popularity (any non-negative scale works; it is max-normalized). */
  popularity: number;
}

export type ItemNormalization = 'none' | 'sum' | 'max' | 'l2';

export interface RankingParams {
  /** Neighbour similarity exponent α. */
  alpha: number;
  /** Exponent γ applied to a neighbour's item scores before normalization (0.5 = sqrt damping). */
  itemExponent: number;
  /** Per-neighbour normalization of item weights. */
  normalize: ItemNormalization;
  /** Popularity penalty exponent β (RP3beta); 0 disables. */
  beta: number;
  /** λ: weight of the genre/popularity part vs the collaborative part. */
  genreBlend: number;
  /** μ: share of popularity inside the genre part. */
  popularityPrior: number;
  /** Neighbours below this similarity are ignored. */
  minSimilarity: number;
  /** ω: weight of the item–item neighbour score inside the collaborative part (0 = user neighbours only). */
  itemBlend: number;
  /** κ: weight of the content (tag) neighbour score added to the collaborative part (0 = off). */
  contentBlend: number;
}

/**
 * The tuned ranking (validation splits, EVALUATION.md), used by the read API and the offline
 * evaluation alike. β and the item/content blends act only when their inputs are given (listener
 * counts, item-model lists); without them the ranking is the user-neighbour score alone.
 */
export const DEFAULT_RANKING: Readonly<RankingParams> = Object.freeze({
  alpha: 1.5,
  itemExponent: 0.5,
  normalize: 'l2',
  beta: 0.4,
  genreBlend: 0,
  popularityPrior: 0.2,
  minSimilarity: 0,
  itemBlend: 0.6,
  contentBlend: 0.2,
});

export interface CollaborativeScore {
  score: number;
  /** Number of neighbours that contributed. */
  supporters: number;
  /** Set when item–item neighbours of the user's own items contributed. */
  similarItems?: boolean;
}

export interface ScoreOptions extends Partial<RankingParams> {
  /** Items never scored (already known to the user). */
  exclude?: ReadonlySet<string> | ((id: string) => boolean);
  /** Popularity for the β penalty (values < 1 count as 1; unknown ids are not penalized). */
  popularity?: ReadonlyMap<string, number> | ((id: string) => number | undefined);
}

function forEachItem(items: ItemScores, fn: (id: string, w: number) => void): void {
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
  forEachItem(topItems, (id, w) => {
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
      forEachItem(items, (_id, w) => {
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
    forEachItem(items, (id, w) => {
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

// ---------------------------------------------------------------------------------------------

export interface Recommendation {
  id: string;
  score: number;
  reasons: string[];
}

export type RecommendStrategy = 'collaborative' | 'genre' | 'popular';

export interface RecommendInput {
  /** Undefined for an unknown user. */
  /** The user's profile; ranking reads only its genres and top items. */
  profile?: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'> | undefined;
  neighbors?: readonly NeighborItems[];
  kind: 'track' | 'artist';
  /** Catalog items for genre match and the popular fallback (also the genre info of collaborative items). */
  candidates?: readonly CandidateItem[];
  /** Only items of this genre (any tag spelling; an unknown genre matches nothing). */
  genre?: string | undefined;
  limit?: number;
  /** Default: everything in the user's own top list of this kind. */
  exclude?: ReadonlySet<string>;
  /**
   * Listener counts for the β penalty (the item model's); without them no penalty applies (catalog
   * popularity is a 0–100 score on another scale, not a count).
   */
  popularity?: ReadonlyMap<string, number>;
  /**
   * Item–item neighbour lists (`itemNeighborLists`), looked up for the user's own items of this
   * kind; used when params.itemBlend > 0.
   */
  itemNeighbors?: (id: string) => PreparedItems | undefined;
  /** Content (tag) neighbour lists (`contentNeighborLists`); used when params.contentBlend > 0. */
  contentNeighbors?: (id: string) => PreparedItems | undefined;
  params?: Partial<RankingParams>;
}

export interface RecommendResult {
  items: Recommendation[];
  strategy: RecommendStrategy;
}

/** An item belongs to a genre when it carries ≥ 20 % of its weight or is its primary genre. */
export function itemHasGenre(genres: GenreWeights, genre: string): boolean {
  const w = genres[genre] ?? 0;
  return w >= 0.2 || (w > 0 && primaryGenre(genres) === genre);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A ranking request made ready: parameters, the user's taste, the catalog and what is allowed. */
export interface OpenRanking {
  kind: 'track' | 'artist';
  params: RankingParams;
  limit: number;
  userVec: Float64Array | undefined;
  hasTaste: boolean;
  /** The user's own items of the kind. */
  own: Readonly<Record<string, number>>;
  filterGenre: string | undefined;
  /** Catalog items (popular in genre) and their max popularity. */
  catalog: ReadonlyMap<string, CandidateItem>;
  maxPop: number;
  allowed: (id: string) => boolean;
}

/**
 * The steps `recommend` and the read-time `rankCandidates` share before their collaborative part;
 * `exclude` receives the user's own items of the kind. An unknown genre answers at once.
 */
export function openRanking(input: {
  profile?: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'> | undefined;
  kind: 'track' | 'artist';
  catalog?: readonly CandidateItem[] | undefined;
  genre?: string | undefined;
  limit?: number | undefined;
  params?: Partial<RankingParams> | undefined;
  exclude: (own: Readonly<Record<string, number>>) => ReadonlySet<string>;
}): OpenRanking | { answer: RecommendResult } {
  const params: RankingParams = { ...DEFAULT_RANKING, ...input.params };
  const limit = Math.max(0, Math.floor(input.limit ?? 20));
  const profile = input.profile;
  const userVec = profile ? genreVector(profile.genres) : undefined;
  const hasTaste = userVec?.some((x) => x > 0) === true;
  const own = profile ? (input.kind === 'track' ? profile.topTracks : profile.topArtists) : {};
  const exclude = input.exclude(own);

  const filterGenre = input.genre === undefined ? undefined : tagToGenre(input.genre);
  if (filterGenre === null) return { answer: { items: [], strategy: hasTaste ? 'genre' : 'popular' } };

  const catalog = new Map<string, CandidateItem>();
  let maxPop = 0;
  for (const c of input.catalog ?? []) {
    catalog.set(c.id, c);
    if (c.popularity > maxPop) maxPop = c.popularity;
  }
  const allowed = (id: string): boolean => {
    if (exclude.has(id)) return false;
    if (filterGenre === undefined) return true;
    const c = catalog.get(id);
    return c !== undefined && itemHasGenre(c.genres, filterGenre);
  };
  return { kind: input.kind, params, limit, userVec, hasTaste, own, filterGenre, catalog, maxPop, allowed };
}

export function recommend(input: RecommendInput): RecommendResult {
  const opened = openRanking({
    ...input,
    catalog: input.candidates,
    exclude: (own) => input.exclude ?? new Set(Object.keys(own)),
  });
  if ('answer' in opened) return opened.answer;
  const { params, own, allowed } = opened;

  const collab = scoreCandidates(input.neighbors ?? [], {
    ...params,
    exclude: (id) => !allowed(id),
    ...(input.popularity ? { popularity: input.popularity } : {}),
  });
  let maxCollab = 0;
  for (const c of collab.values()) if (c.score > maxCollab) maxCollab = c.score;
  const parts: [number, (id: string) => PreparedItems | undefined][] = [];
  if (params.itemBlend > 0 && input.itemNeighbors) parts.push([params.itemBlend, input.itemNeighbors]);
  if (params.contentBlend > 0 && input.contentNeighbors) parts.push([params.contentBlend, input.contentNeighbors]);
  if (parts.length > 0) {
    const ownIds = Object.keys(own).filter((id) => own[id]! > 0);
    // Without item lists the user-neighbour part keeps its whole weight.
    const wu = maxCollab > 0 ? (1 - (input.itemNeighbors ? params.itemBlend : 0)) / maxCollab : 0;
    for (const c of collab.values()) c.score *= wu;
    for (const [weight, lists] of parts) {
      const byItem = scoreItemNeighbors(ownIds, lists, (id) => !allowed(id));
      let maxItem = 0;
      for (const s of byItem.values()) if (s > maxItem) maxItem = s;
      if (!(maxItem > 0)) continue;
      for (const [id, s] of byItem) {
        const add = (weight * s) / maxItem;
        const cur = collab.get(id);
        if (cur === undefined) collab.set(id, { score: add, supporters: 0, similarItems: true });
        else {
          cur.score += add;
          cur.similarItems = true;
        }
      }
    }
    maxCollab = 0;
    for (const c of collab.values()) if (c.score > maxCollab) maxCollab = c.score;
  }

  return finishRanking(opened, collab, maxCollab);
}

/**
 * The ranking after its collaborative part — genre match, the λ/μ blend, reasons, the 'genre' and
 * 'popular' fallbacks, ties by id — shared by `recommend` and the read-time `rankCandidates`, so
 * the two cannot drift. `collab`: the collaborative scores (already blended with the item and
 * content scores) and their max.
 */
export function finishRanking(
  { kind, params, limit, userVec, hasTaste, filterGenre, catalog, maxPop, allowed }: OpenRanking,
  collab: Map<string, CollaborativeScore>,
  maxCollab: number,
): RecommendResult {
  // User's top genres (for "because you play a lot of X").
  const topUserGenres = new Set<string>();
  if (hasTaste) {
    const idx = [...userVec!.keys()]
      .filter((i) => userVec![i]! > 0)
      .sort((a, b) => userVec![b]! - userVec![a]! || a - b);
    for (const i of idx.slice(0, 3)) topUserGenres.add(GENRES[i]!);
  }
  const genreMatch = (c: CandidateItem | undefined): { match: number; genre: string | null } => {
    if (!hasTaste || c === undefined) return { match: 0, genre: null };
    const match = cosine(userVec!, denseGenres(c.genres));
    let best: string | null = null;
    let bestContribution = 0;
    for (const g in c.genres) {
      const i = GENRE_INDEX[g];
      if (i === undefined) continue;
      const contribution = c.genres[g]! * userVec![i]!;
      if (contribution > bestContribution) {
        bestContribution = contribution;
        best = g;
      }
    }
    return { match, genre: best };
  };
  const popNorm = (c: CandidateItem | undefined) => (c && maxPop > 0 ? c.popularity / maxPop : 0);

  const scored: Recommendation[] = [];
  let strategy: RecommendStrategy;
  const lambda = params.genreBlend;
  const mu = params.popularityPrior;

  if (maxCollab > 0) {
    strategy = 'collaborative';
    const unexplained: {
      id: string;
      score: number;
      co: CollaborativeScore | undefined;
      c: CandidateItem | undefined;
      genre: string | null;
    }[] = [];
    const ids = new Set<string>(collab.keys());
    for (const id of catalog.keys()) if (allowed(id)) ids.add(id);
    for (const id of ids) {
      const c = catalog.get(id);
      const co = collab.get(id);
      const { match, genre } = genreMatch(c);
      if (co === undefined && match <= 0) continue;
      const collabPart = co ? co.score / maxCollab : 0;
      const score = (1 - lambda) * collabPart + lambda * ((1 - mu) * match + mu * popNorm(c));
      unexplained.push({ id, score, co, c, genre });
    }
    // Reasons only for what is returned (ranking the whole catalog offline made them the main cost).
    unexplained.sort(byScoreThenId);
    for (const { id, score, co, c, genre } of unexplained.slice(0, limit)) {
      const reasons: string[] = [];
      if (co && co.supporters > 0) reasons.push(`liked by ${plural(co.supporters, 'listener', 'listeners')} like you`);
      if (co?.similarItems) reasons.push(`similar to ${kind === 'track' ? 'tracks' : 'artists'} you play`);
      if (genre !== null && topUserGenres.has(genre)) reasons.push(`because you play a lot of ${genreLabel(genre)}`);
      if (reasons.length === 0) reasons.push(popularReason(c));
      scored.push({ id, score, reasons });
    }
  } else if (
    hasTaste &&
    catalog.size > 0 &&
    [...catalog.values()].some((c) => allowed(c.id) && genreMatch(c).match > 0)
  ) {
    strategy = 'genre';
    for (const c of catalog.values()) {
      if (!allowed(c.id)) continue;
      const { match, genre } = genreMatch(c);
      if (match <= 0) continue;
      const score = (1 - mu) * match + mu * popNorm(c);
      const reasons: string[] = [];
      if (genre !== null) reasons.push(`because you play a lot of ${genreLabel(genre)}`);
      if (popNorm(c) >= 0.5) reasons.push(popularReason(c));
      if (reasons.length === 0) reasons.push(popularReason(c));
      scored.push({ id: c.id, score, reasons });
    }
  } else {
    strategy = 'popular';
    for (const c of catalog.values()) {
      if (!allowed(c.id)) continue;
      scored.push({ id: c.id, score: popNorm(c), reasons: [popularReason(c, filterGenre)] });
    }
  }

  scored.sort(byScoreThenId);
  return { items: scored.length > limit ? scored.slice(0, limit) : scored, strategy };
}

// Dense copies of catalog genre maps, computed once per map object: offline evaluation ranks the
// whole catalog for every user, and re-densifying each item per call dominated its run time.
const denseCache = new WeakMap<GenreWeights, Float64Array>();
function denseGenres(g: GenreWeights): Float64Array {
  let v = denseCache.get(g);
  if (v === undefined) {
    v = new Float64Array(GENRE_COUNT);
    for (const k in g) {
      const i = GENRE_INDEX[k];
      if (i !== undefined) v[i] = g[k]!;
    }
    denseCache.set(g, v);
  }
  return v;
}

function byScoreThenId(a: { id: string; score: number }, b: { id: string; score: number }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function popularReason(c: CandidateItem | undefined, genre?: string): string {
  const g = genre ?? (c ? primaryGenre(c.genres) : null);
  return g ? `popular in ${genreLabel(g)}` : 'popular right now';
}
