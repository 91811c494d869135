/**
 * The shapes the ranking reads and returns, in one place: a user's or an item's scored items, a
 * neighbour with its items, a catalog item as the genre part sees it, one user's stored candidates
 * (component arrays), and a ranked answer.
 */
import type { GenreWeights } from '../genres.ts';

/** Item id → score: a profile's top list, plain or as a Map. */
export type ItemScores = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

/** Items already transformed (^γ) and normalized, see `prepareItems`: a neighbour's top items or an item's list. */
export interface PreparedItems {
  readonly ids: readonly string[];
  readonly weights: Float64Array;
}

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

export interface CollaborativeScore {
  score: number;
  /** Number of neighbours that contributed. */
  supporters: number;
  /** Set when item–item neighbours of the user's own items contributed. */
  similarItems?: boolean;
}

export type CandidateKind = 'track' | 'artist';

/**
 * One user's candidates of one kind, position-aligned arrays. A component array is absent when
 * its lists were not given at build time (this matters: `recommend()` gives the user-neighbour part
 * weight 1 − ω whenever item lists are given, even if none of the user's items has one).
 */
export interface CandidateList {
  kind: CandidateKind;
  ids: string[];
  /** User-neighbour score Σ sim^α · norm(w^γ) / pop^β; 0 when no neighbour has the item. */
  collab: Float64Array;
  /** Neighbours that contributed to `collab` (0 ⇔ not a user-neighbour candidate). */
  supporters: Uint16Array;
  /** Σ of the item-model co-listening weights from the user's own items; 0 when none. */
  item?: Float64Array | undefined;
  /** Σ of the content (tag) neighbour weights from the user's own items; 0 when none. */
  content?: Float64Array | undefined;
}

export interface Recommendation {
  id: string;
  score: number;
  reasons: string[];
}

export type RecommendStrategy = 'collaborative' | 'genre' | 'popular';

export interface RecommendResult {
  items: Recommendation[];
  strategy: RecommendStrategy;
}
