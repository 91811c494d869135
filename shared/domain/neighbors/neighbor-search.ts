/**
 * The neighbour search a refresh runs over the index: cells read best first (`neighbor-cells.ts`),
 * users ranked by the blended similarity of their index tastes, stopping at a budget or when no
 * unread cell can beat the k-th neighbour; and how fresh candidates merge into a stored list.
 */

import { type SimilarityWeights, similarity, type TasteFeatures } from '../similarity.ts';
import { type ProbeEntry, probePlan, probePlanWithin } from './neighbor-cells.ts';
import { decodeArtistSketch } from './taste-codec.ts';

/** What a refresh knows of a user from an index entry (or its own profile update). */
export function indexTaste(
  genres: Float64Array,
  artistSketch: string | undefined,
  itemWeight?: (id: string) => number,
): TasteFeatures {
  return { genres, artists: decodeArtistSketch(artistSketch, itemWeight) };
}

/**
 * The score a refresh ranks candidates by: `similarity` (genre cosine + artist cosine, weighted)
 * over index tastes. The neighbour updater and the offline evaluation (`--neighbors index`) both
 * call this; the exact evaluation calls `similarity` on full profiles.
 */
export function neighborScore(
  query: TasteFeatures,
  candidate: TasteFeatures,
  weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
): number {
  return similarity(query, candidate, { genreWeight: weights.genreWeight, artistWeight: weights.artistWeight });
}

/**
 * Upper bound of `neighborScore` for candidates whose genre cosine is at most `genreBound`: the
 * artist cosine is bounded only by 1, so with artistWeight > 0 the bound is
 * (g·genreBound + a) / (g + a), which equals genreBound when a = 0.
 */
export function blendedBound(
  genreBound: number,
  weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
): number {
  const g = Math.max(0, weights.genreWeight);
  const a = Math.max(0, weights.artistWeight);
  if (!(g + a > 0)) return 0;
  return (g * genreBound + a * (a > 0 ? 1 : 0)) / (g + a);
}

export interface IndexCandidate {
  userId: string;
  taste: TasteFeatures;
  /** The entry's packed top items (`top-items-codec.ts`), decoded only for the neighbours kept. */
  top?: Uint8Array;
}

export interface SearchBudget {
  maxCells: number;
  maxItems: number;
}

/**
 * One neighbour search over the index, as a state machine so the same code runs against DynamoDB
 * (async, a wave of cells queried concurrently) and in memory (the evaluation):
 *
 *   for (let cells; (cells = s.nextCells()); ) for (const c of cells) s.offer(await read(c));
 *
 * Cells come best first by genre (`probePlan`, unoccupied ones skipped, at most `maxCells`);
 * candidates are ranked by `neighborScore`. The search stops when the budget is spent or when no
 * unread cell can beat the k-th neighbour under `blendedBound` (with an artist term this is
 * rarely before the budget: an unread user may share every artist).
 */
export class NeighborSearch {
  static readonly WAVE = 8;
  private readonly plan: ProbeEntry[];
  private readonly maxBoundFrom: Float64Array;
  private readonly best = new Map<string, number>();
  private next = 0;
  itemsSeen = 0;

  constructor(
    private readonly query: TasteFeatures,
    private readonly selfId: string,
    private readonly k: number,
    private readonly budget: SearchBudget,
    occupied: { has(cell: string): boolean },
    private readonly weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
  ) {
    // Best cells first, empty ones skipped: the budget is spent on cells that hold users. When the
    // occupied cells are listable and a few thousand at most, only they are ranked (beyond that,
    // ranking all ~10k cells by number is as cheap as looking the names up).
    const names =
      occupied instanceof Set
        ? (occupied as Set<string>)
        : occupied instanceof Map
          ? (occupied as Map<string, unknown>)
          : undefined;
    const plan =
      names && names.size < 4000
        ? probePlanWithin(query.genres, names.keys())
        : probePlan(query.genres).filter((p) => occupied.has(p.cell));
    this.plan = plan.slice(0, Math.max(0, budget.maxCells));
    this.maxBoundFrom = new Float64Array(this.plan.length + 1);
    for (let i = this.plan.length - 1; i >= 0; i--)
      this.maxBoundFrom[i] = Math.max(this.maxBoundFrom[i + 1]!, blendedBound(this.plan[i]!.bound, weights));
  }

  /** The next wave of cells to read, or undefined when the search is done. */
  nextCells(): string[] | undefined {
    const i = this.next;
    if (i >= this.plan.length) return undefined;
    if (this.k > 0 && this.best.size >= this.k) {
      const worst = [...this.best.values()].sort((a, b) => b - a)[this.k - 1]!;
      if (this.maxBoundFrom[i]! <= worst) return undefined;
    }
    if (this.itemsSeen >= this.budget.maxItems) return undefined;
    this.next = i + NeighborSearch.WAVE;
    return this.plan.slice(i, i + NeighborSearch.WAVE).map((p) => p.cell);
  }

  offer(entries: Iterable<IndexCandidate>): void {
    for (const { userId, taste } of entries) {
      this.itemsSeen++;
      if (userId === this.selfId) continue;
      const s = neighborScore(this.query, taste, this.weights);
      // Unrelated tastes (no genre and no artist in common) are not neighbours, however few users there are.
      if (!(s > 0)) continue;
      const prev = this.best.get(userId);
      if (prev === undefined || s > prev) this.best.set(userId, s);
    }
  }

  result(): Neighbor[] {
    return mergeNeighbors(
      [],
      [...this.best].map(([userId, s]) => ({ userId, similarity: Math.round(s * 1e6) / 1e6 })),
      this.k,
    );
  }
}

export interface Neighbor {
  userId: string;
  similarity: number;
}

export const byNeighbor = (a: Neighbor, b: Neighbor) =>
  b.similarity - a.similarity || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

/**
 * Merge fresh candidates into the current neighbour list: candidates replace entries of the same
 * user (fresher similarity), best `k` kept, ties by userId.
 */
export function mergeNeighbors<N extends Neighbor>(current: readonly N[], candidates: readonly N[], k: number): N[] {
  const byId = new Map<string, N>();
  for (const n of current) byId.set(n.userId, n);
  for (const n of candidates) byId.set(n.userId, n);
  return [...byId.values()].sort(byNeighbor).slice(0, Math.max(0, k));
}
