/**
 * The ranking's parameters and their tuned defaults (EVALUATION.md): one set, read by the read
 * API, the candidate builds and the offline evaluation alike.
 */

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
