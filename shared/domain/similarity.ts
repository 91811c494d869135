/**
 * Taste vectors and user–user similarity. Scores in a profile share one decay factor, so
 * normalized vectors do not depend on the read time.
 */
import { GENRE_COUNT, GENRE_INDEX } from './genres.ts';
import type { Profile } from './profile/profile.ts';

export type SparseVector = Map<string, number>;
export type AnyVector = Float64Array | SparseVector | Readonly<Record<string, number>>;

/** Dense genre vector over GENRES from sparse scores: negatives clamped to 0, L2-normalized (all zeros if empty). */
export function genreVector(scores: Readonly<Record<string, number>>): Float64Array {
  const v = new Float64Array(GENRE_COUNT);
  let norm = 0;
  for (const k in scores) {
    const i = GENRE_INDEX[k];
    const s = scores[k]!;
    if (i === undefined || !(s > 0)) continue;
    v[i] = s;
    norm += s * s;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

/** The user's L2-normalized dense genre vector. */
export function tasteVector(profile: Pick<Profile, 'genres'>): Float64Array {
  return genreVector(profile.genres);
}

/** Positive entries, optionally only the `limit` largest, L2-normalized. */
export function sparseUnitVector(scores: Readonly<Record<string, number>>, limit?: number): SparseVector {
  let entries: [string, number][] = [];
  for (const k in scores) {
    const v = scores[k]!;
    if (v > 0) entries.push([k, v]);
  }
  if (limit !== undefined && entries.length > limit) {
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    entries = entries.slice(0, limit);
  }
  let norm = 0;
  for (const [, v] of entries) norm += v * v;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const out: SparseVector = new Map();
  for (const [k, v] of entries) out.set(k, v * inv);
  return out;
}

/** Sparse L2-normalized vector of the user's top artists (or tracks). */
export function artistVector(
  profile: Pick<Profile, 'topArtists' | 'topTracks'>,
  field: 'topArtists' | 'topTracks' = 'topArtists',
  limit?: number,
): SparseVector {
  return sparseUnitVector(profile[field], limit);
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

function denseCosine(a: Float64Array, b: Float64Array): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    s += x * y;
    na += x * x;
    nb += y * y;
  }
  for (let i = n; i < a.length; i++) na += a[i]! * a[i]!;
  for (let i = n; i < b.length; i++) nb += b[i]! * b[i]!;
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

function asMap(v: SparseVector | Readonly<Record<string, number>>): SparseVector {
  return v instanceof Map ? v : new Map(Object.entries(v));
}

function sparseCosine(a: SparseVector, b: SparseVector): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [k, x] of small) {
    const y = large.get(k);
    if (y !== undefined) s += x * y;
  }
  if (s === 0) return 0;
  let na = 0;
  let nb = 0;
  for (const x of a.values()) na += x * x;
  for (const y of b.values()) nb += y * y;
  return s / Math.sqrt(na * nb);
}

/** Dot product of two L2-normalized sparse vectors (= their cosine; the tag profiles are unit vectors). */
function unitDot(a: SparseVector, b: SparseVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [k, x] of small) {
    const y = large.get(k);
    if (y !== undefined) s += x * y;
  }
  return s;
}

/** Cosine similarity; 0 if either vector is zero. Dense Float64Arrays take a fast path; mixed inputs compare by genre. */
export function cosine(a: AnyVector, b: AnyVector): number {
  if (a instanceof Float64Array && b instanceof Float64Array) return denseCosine(a, b);
  if (a instanceof Float64Array) return denseCosine(a, denseOf(b as SparseVector | Record<string, number>));
  if (b instanceof Float64Array) return denseCosine(denseOf(a as SparseVector | Record<string, number>), b);
  return sparseCosine(asMap(a), asMap(b));
}

function denseOf(v: SparseVector | Readonly<Record<string, number>>): Float64Array {
  const out = new Float64Array(GENRE_COUNT);
  for (const [k, x] of v instanceof Map ? v : Object.entries(v)) {
    const i = GENRE_INDEX[k];
    if (i !== undefined) out[i] = x;
  }
  return out;
}

/** Precomputed per-user features; compute once per user when comparing against many. */
export interface TasteFeatures {
  genres: Float64Array;
  artists: SparseVector;
  /** L2 norm of the artist weights before normalization (for the asymmetric cosine). */
  artistNorm?: number;
  /** L2-normalized tag profile (see `tagProfile`), compared with weight `tagWeight`. */
  tags?: SparseVector;
}

/**
 * A user's tag profile: Σ over items of score(i) · tagVector(i) (positive scores; e.g. the artists'
 * TF-IDF tag vectors from `tagVectors`), optionally cut to its `limit` largest tags, L2-normalized.
 */
export function tagProfile(
  items: Readonly<Record<string, number>>,
  tagVectorOf: (id: string) => SparseVector | undefined,
  /** Keep only the `limit` largest tags (a bounded profile, like the artist sketch). */
  limit?: number,
): SparseVector {
  const acc: Record<string, number> = {};
  for (const id in items) {
    const w = items[id]!;
    if (!(w > 0)) continue;
    const v = tagVectorOf(id);
    if (v) for (const [t, x] of v) acc[t] = (acc[t] ?? 0) + w * x;
  }
  return sparseUnitVector(acc, limit);
}

export interface FeatureOptions {
  /** Exponent on item scores before normalization: 1 keeps them, 0 binarizes (set overlap). */
  itemExponent?: number;
  /**
   * Per-item weight multiplied into the (exponentiated) scores before normalization, e.g. an IDF
   * weight listeners(i)^−p from the catalog, so that sharing a niche artist counts more than
   * sharing a mainstream one. Undefined (or 1 for every id) keeps the plain scores.
   */
  itemWeight?: (id: string) => number;
}

/** IDF-style item weight listeners^−exponent (listeners < 1 count as 1; unknown ids weigh 1). */
export function idfWeight(
  listeners: ReadonlyMap<string, number> | ((id: string) => number | undefined),
  exponent: number,
): (id: string) => number {
  const get = typeof listeners === 'function' ? listeners : (id: string) => listeners.get(id);
  return (id) => {
    const n = get(id);
    return n === undefined || exponent === 0 ? 1 : Math.max(1, n) ** -exponent;
  };
}

export function tasteFeatures(
  profile: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'>,
  field: 'topArtists' | 'topTracks' = 'topArtists',
  opts: FeatureOptions = {},
): TasteFeatures {
  const e = opts.itemExponent ?? 1;
  const iw = opts.itemWeight;
  const src = profile[field];
  let scores: Readonly<Record<string, number>> = src;
  if (e !== 1 || iw !== undefined) {
    const t: Record<string, number> = {};
    for (const k in src) if (src[k]! > 0) t[k] = (e === 0 ? 1 : e === 1 ? src[k]! : src[k]! ** e) * (iw ? iw(k) : 1);
    scores = t;
  }
  let norm = 0;
  for (const k in scores) if (scores[k]! > 0) norm += scores[k]! ** 2;
  return { genres: tasteVector(profile), artists: sparseUnitVector(scores), artistNorm: Math.sqrt(norm) };
}

export interface SimilarityWeights {
  genreWeight: number;
  artistWeight: number;
  /**
   * Asymmetric cosine on artists (Aiolli): a·b / (‖a‖^(2q) · ‖b‖^(2(1−q))) with a = the user
   * asking, b = the candidate neighbour. 0.5 (default) is plain cosine; q > 0.5 penalizes less
   * a neighbour with a long list. Needs features from `tasteFeatures` (their `artistNorm`).
   */
  asymmetry?: number;
  /** Weight of the tag-profile cosine (features' `tags`); 0 or undefined = not used. */
  tagWeight?: number;
}

export const DEFAULT_SIMILARITY_WEIGHTS: Readonly<SimilarityWeights> = Object.freeze({
  genreWeight: 0.5,
  artistWeight: 0.5,
});

function isFeatures(x: TasteFeatures | Profile): x is TasteFeatures {
  return (x as TasteFeatures).artists instanceof Map;
}

/**
 * (genreWeight · cos(genres) + artistWeight · cos(artists) + tagWeight · cos(tags)) / (sum of the weights), in [0, 1]
 * (with `asymmetry` ≠ 0.5 the artist term is the asymmetric cosine and may exceed 1).
 * A side with no artists contributes 0 to the artist term (weights are not renormalized, so users
 * with item overlap rank above genre-only lookalikes).
 */
export function similarity(
  a: Profile | TasteFeatures,
  b: Profile | TasteFeatures,
  weights: Readonly<SimilarityWeights> = DEFAULT_SIMILARITY_WEIGHTS,
): number {
  const fa = isFeatures(a) ? a : tasteFeatures(a);
  const fb = isFeatures(b) ? b : tasteFeatures(b);
  const tw = weights.tagWeight ?? 0;
  const total = weights.genreWeight + weights.artistWeight + tw;
  if (!(total > 0)) return 0;
  let s = 0;
  if (tw > 0 && fa.tags && fb.tags) s += tw * unitDot(fa.tags, fb.tags);
  if (weights.genreWeight > 0) s += weights.genreWeight * denseCosine(fa.genres, fb.genres);
  if (weights.artistWeight > 0) {
    let c = sparseCosine(fa.artists, fb.artists);
    const q = weights.asymmetry ?? 0.5;
    // cos·‖a‖‖b‖ / (‖a‖^(2q)‖b‖^(2−2q)) = cos · (‖b‖/‖a‖)^(2q−1)
    if (q !== 0.5 && c > 0 && fa.artistNorm && fb.artistNorm) c *= (fb.artistNorm / fa.artistNorm) ** (2 * q - 1);
    s += weights.artistWeight * c;
  }
  return s / total;
}
