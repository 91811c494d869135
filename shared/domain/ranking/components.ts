/**
 * The candidates' component scores, computed where they are expensive (write time: when a user's
 * neighbours are refreshed or a new item model is published) and blended where they are cheap
 * (read time, `rankCandidates`):
 *
 * - user-neighbour: Σ_v sim(v)^α · norm_v(w_v(i)^γ) / pop(i)^β (before max-normalization), with
 *   its supporter count (user-neighbors.ts);
 * - item (co-listening) and content (tag): Σ over the user's own items of their item model lists
 *   (item-lists.ts).
 *
 * Read time blends them (blend.ts) over what is still allowed: exclusions and the genre filter only
 * remove items, they never change another item's raw score, which is why they can wait.
 */
import { ConfigurationError } from '../../errors.ts';
import { byId } from './blend.ts';
import { scoreItemNeighbors } from './item-lists.ts';
import { DEFAULT_RANKING, type RankingParams } from './params.ts';
import { trimCandidates } from './trim.ts';
import type { CandidateKind, CandidateList, ItemScores, NeighborItems, PreparedItems } from './types.ts';
import { forEachScore, scoreCandidates } from './user-neighbors.ts';

export interface BuildCandidatesInput {
  kind: CandidateKind;
  /** The user's own top items of this kind (id → score): excluded; positive ones seed item/content lists. */
  ownItems: ItemScores;
  neighbors: readonly NeighborItems[];
  /** Listener counts for the β penalty (as `RecommendInput.popularity`). */
  popularity?: ReadonlyMap<string, number> | undefined;
  itemNeighbors?: ((id: string) => PreparedItems | undefined) | undefined;
  contentNeighbors?: ((id: string) => PreparedItems | undefined) | undefined;
  params?: Partial<RankingParams> | undefined;
  /** Candidates kept (default `DEFAULT_CANDIDATE_SIZE`). */
  size?: number | undefined;
}

export interface BuildCandidatesResult {
  /** Kept candidates, sorted by id (stable bytes, and shared id prefixes pack well). */
  list: CandidateList;
  /** Candidates before truncation. */
  total: number;
  /**
   * Best build-time blended score (max-normalized to 1) among the dropped candidates, 0 when none
   * was dropped: read-time results below it may differ from an untruncated ranking.
   */
  droppedBest: number;
}

export const DEFAULT_CANDIDATE_SIZE = 300;

export function buildCandidates(input: BuildCandidatesInput): BuildCandidatesResult {
  const params: RankingParams = { ...DEFAULT_RANKING, ...input.params };
  const size = Math.max(0, Math.floor(input.size ?? DEFAULT_CANDIDATE_SIZE));
  if (Number.isNaN(size)) throw new ConfigurationError(`invalid candidate list size ${input.size}`);
  const own = new Set<string>();
  const seeds: string[] = [];
  forEachScore(input.ownItems, (id, w) => {
    own.add(id);
    if (w > 0) seeds.push(id);
  });
  const isOwn = (id: string) => own.has(id);

  // The same calls recommend() makes, with only the user's own items excluded: the remaining
  // exclusions (fresh plays, genre filter) only remove items, they never change another item's
  // raw score, so they can wait until read time.
  const collab = scoreCandidates(input.neighbors, {
    ...params,
    exclude: isOwn,
    ...(input.popularity ? { popularity: input.popularity } : {}),
  });
  const item = input.itemNeighbors ? scoreItemNeighbors(seeds, input.itemNeighbors, isOwn) : undefined;
  const content = input.contentNeighbors ? scoreItemNeighbors(seeds, input.contentNeighbors, isOwn) : undefined;

  const idSet = new Set<string>(collab.keys());
  for (const id of item?.keys() ?? []) idSet.add(id);
  for (const id of content?.keys() ?? []) idSet.add(id);
  const ids = [...idSet].sort(byId);
  const n = ids.length;
  const full: CandidateList = {
    kind: input.kind,
    ids,
    collab: new Float64Array(n),
    supporters: new Uint16Array(n),
    item: item ? new Float64Array(n) : undefined,
    content: content ? new Float64Array(n) : undefined,
  };
  for (let p = 0; p < n; p++) {
    const id = ids[p]!;
    const c = collab.get(id);
    if (c) {
      full.collab[p] = c.score;
      // Supporters ≤ the number of neighbours; the clamp only guards the storage width.
      full.supporters[p] = Math.min(c.supporters, 0xffff);
    }
    if (full.item) full.item[p] = item!.get(id) ?? 0;
    if (full.content) full.content[p] = content!.get(id) ?? 0;
  }

  return { ...trimCandidates(full, size, params), total: n };
}
