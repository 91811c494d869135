/**
 * The ranking around its collaborative part: `openRanking` readies a request (parameters, the
 * user's taste, the catalog, what is allowed), `finishRanking` blends the genre part
 *
 *   score(i) = (1 − λ) · collab'(i) / max collab' + λ · ((1 − μ) · genreMatch(i) + μ · pop(i) / max pop)
 *
 * (genreMatch: cosine of the item's genres with the user's genre vector), gives the session's "now"
 * part its share of the positions when there is one (`interleaveNow`), writes the reasons, and
 * falls back to the genre part alone ('genre', users without neighbours) or to popular items
 * ('popular', users without taste). Ties break by id.
 */
import {
  GENRE_COUNT,
  GENRE_INDEX,
  GENRES,
  type GenreWeights,
  genreLabel,
  primaryGenre,
  tagToGenre,
} from '../genres.ts';
import type { Profile } from '../profile/profile.ts';
import { cosine, genreVector } from '../similarity.ts';
import { DEFAULT_RANKING, type RankingParams } from './params.ts';
import type { NowScore } from './session.ts';
import type { CandidateItem, CollaborativeScore, RecommendResult, RecommendStrategy } from './types.ts';

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

/** The "now" part a ranking blends in (session.ts): its scores, strength and how a seed is named. */
export interface NowPart {
  scores: ReadonlyMap<string, NowScore>;
  /** s: the share of the answer the session takes; 0 leaves the long-term answer as it is. */
  strength: number;
  /** A seed's name for the reason ("because you just played …"); its id when unknown. */
  seedLabel?: ((id: string) => string) | undefined;
}

/** A candidate scored but not yet explained (reasons are written only for what is returned). */
interface Scored {
  id: string;
  score: number;
  co: CollaborativeScore | undefined;
  c: CandidateItem | undefined;
  genre: string | null;
  now?: NowScore | undefined;
}

/** A now score below this share of the best one does not earn the item the "just played" reason. */
const NOW_REASON_MIN = 0.25;

/**
 * The ranking after its collaborative part — genre match, the λ/μ blend, the session's "now"
 * part when given, reasons, the 'genre' and 'popular' fallbacks, ties by id — for every caller
 * (`rankCandidates`, and through it `recommend`). `collab`: the collaborative scores (already
 * blended with the item and content scores) and their max.
 */
export function finishRanking(
  opened: OpenRanking,
  collab: Map<string, CollaborativeScore>,
  maxCollab: number,
  now?: NowPart,
): RecommendResult {
  const { kind, params, limit, userVec, hasTaste, filterGenre, catalog, maxPop, allowed } = opened;
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

  const scored: Scored[] = [];
  let strategy: RecommendStrategy;
  const lambda = params.genreBlend;
  const mu = params.popularityPrior;

  if (maxCollab > 0) {
    strategy = 'collaborative';
    const ids = new Set<string>(collab.keys());
    for (const id of catalog.keys()) if (allowed(id)) ids.add(id);
    for (const id of ids) {
      const c = catalog.get(id);
      const co = collab.get(id);
      const { match, genre } = genreMatch(c);
      if (co === undefined && match <= 0) continue;
      const collabPart = co ? co.score / maxCollab : 0;
      const score = (1 - lambda) * collabPart + lambda * ((1 - mu) * match + mu * popNorm(c));
      scored.push({ id, score, co, c, genre });
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
      scored.push({ id: c.id, score: (1 - mu) * match + mu * popNorm(c), co: undefined, c, genre });
    }
  } else {
    strategy = 'popular';
    for (const c of catalog.values()) {
      if (!allowed(c.id)) continue;
      scored.push({ id: c.id, score: popNorm(c), co: undefined, c, genre: null });
    }
  }
  // Reasons only for what is returned (ranking the whole catalog offline made them the main cost).
  scored.sort(byScoreThenId);
  const top =
    now && now.strength > 0 && now.scores.size > 0
      ? interleaveNow(scored, now, opened, genreMatch)
      : scored.length > limit
        ? scored.slice(0, limit)
        : scored;
  const reasonsOf = (e: Scored): string[] => {
    const reasons: string[] = [];
    if (e.now && e.now.score >= NOW_REASON_MIN)
      reasons.push(`because you just played ${now?.seedLabel?.(e.now.seed) ?? e.now.seed}`);
    if (strategy === 'collaborative') {
      if (e.co && e.co.supporters > 0)
        reasons.push(`liked by ${plural(e.co.supporters, 'listener', 'listeners')} like you`);
      if (e.co?.similarItems) reasons.push(`similar to ${kind === 'track' ? 'tracks' : 'artists'} you play`);
      if (e.genre !== null && topUserGenres.has(e.genre))
        reasons.push(`because you play a lot of ${genreLabel(e.genre)}`);
    } else if (strategy === 'genre') {
      if (e.genre !== null) reasons.push(`because you play a lot of ${genreLabel(e.genre)}`);
      if (popNorm(e.c) >= 0.5) reasons.push(popularReason(e.c));
    }
    if (reasons.length === 0) reasons.push(popularReason(e.c, strategy === 'popular' ? filterGenre : undefined));
    return reasons;
  };
  return { items: top.map((e) => ({ id: e.id, score: e.score, reasons: reasonsOf(e) })), strategy };
}

/**
 * The session's share of the answer by position: after p positions, round(s · p) of them come
 * from the now list (best now score first), the rest from the long-term list (best first), an
 * item in both taken once where it comes first. A blend of scores did not keep that share: the
 * now scores of one seed sit flat near their maximum while the long-term scores fall away from
 * theirs, so the list flipped from "the session barely shows" to "the session is the whole list"
 * within a narrow band of s (BENCHMARKS.md, responsiveness). Each item's score is
 * (1 − s) · long-term + s · now, capped by the score above it so the answer stays in order.
 */
function interleaveNow(
  longTerm: readonly Scored[],
  now: NowPart,
  { catalog, allowed, limit }: OpenRanking,
  genreMatch: (c: CandidateItem | undefined) => { genre: string | null },
): Scored[] {
  const s = now.strength;
  const byId = new Map<string, Scored>();
  for (const e of longTerm) byId.set(e.id, e);
  const nowList: Scored[] = [];
  for (const [id, n] of now.scores) {
    if (!allowed(id)) continue;
    const e = byId.get(id);
    if (e) nowList.push({ ...e, score: n.score, now: n });
    else {
      const c = catalog.get(id);
      nowList.push({ id, score: n.score, co: undefined, c, genre: genreMatch(c).genre, now: n });
    }
  }
  nowList.sort(byScoreThenId);
  const out: Scored[] = [];
  const taken = new Set<string>();
  let i = 0;
  let j = 0;
  let fromNow = 0;
  let cap = Number.POSITIVE_INFINITY;
  while (out.length < limit) {
    while (i < longTerm.length && taken.has(longTerm[i]!.id)) i++;
    while (j < nowList.length && taken.has(nowList[j]!.id)) j++;
    const longLeft = i < longTerm.length;
    const nowLeft = j < nowList.length;
    if (!longLeft && !nowLeft) break;
    const takeNow = nowLeft && (!longLeft || fromNow < Math.round(s * (out.length + 1)));
    const picked = takeNow ? nowList[j++]! : longTerm[i++]!;
    if (takeNow) fromNow++;
    const n = now.scores.get(picked.id);
    const longScore = byId.get(picked.id)?.score ?? 0;
    cap = Math.min(cap, (1 - s) * longScore + s * (n?.score ?? 0));
    taken.add(picked.id);
    out.push({ ...picked, score: cap, now: n });
  }
  return out;
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
