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
 * `blendComponents` is the collaborative part of the formula over a list's allowed positions:
 *
 *   collab'(i) = (1 − ω) · collab(i) / max collab + ω · item(i) / max item + κ · content(i) / max content
 *
 * each max taken over what is still allowed (exclusions and the genre filter only remove items,
 * they never change another item's raw score, which is why they can wait until read time).
 */
import { ConfigurationError } from '../../errors.ts';
import { scoreItemNeighbors } from './item-lists.ts';
import { DEFAULT_RANKING, type RankingParams } from './params.ts';
import { trimCandidates } from './trim.ts';
import type {
  CandidateKind,
  CandidateList,
  CollaborativeScore,
  ItemScores,
  NeighborItems,
  PreparedItems,
} from './types.ts';
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

export const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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

/**
 * The collaborative part over the allowed positions, in recommend()'s exact operation order (so
 * scores are bit-identical): user-neighbour scores, and when item/content parts apply, each part
 * max-normalized and added with its weight to the user-neighbour score scaled by (1 − ω) / max.
 * Returns the un-normalized blend per candidate and its max.
 */
export function blendComponents(
  list: CandidateList,
  positions: readonly number[],
  params: RankingParams,
): { scores: Map<string, CollaborativeScore>; max: number } {
  const scores = new Map<string, CollaborativeScore>();
  let max = 0;
  for (const p of positions) {
    const supporters = list.supporters[p]!;
    if (supporters === 0) continue;
    const score = list.collab[p]!;
    scores.set(list.ids[p]!, { score, supporters });
    if (score > max) max = score;
  }
  const parts: [number, Float64Array][] = [];
  if (params.itemBlend > 0 && list.item) parts.push([params.itemBlend, list.item]);
  if (params.contentBlend > 0 && list.content) parts.push([params.contentBlend, list.content]);
  if (parts.length === 0) return { scores, max };

  const wu = max > 0 ? (1 - (list.item ? params.itemBlend : 0)) / max : 0;
  for (const c of scores.values()) c.score *= wu;
  for (const [weight, values] of parts) {
    let maxPart = 0;
    for (const p of positions) if (values[p]! > maxPart) maxPart = values[p]!;
    if (!(maxPart > 0)) continue;
    for (const p of positions) {
      const s = values[p]!;
      if (!(s > 0)) continue;
      const add = (weight * s) / maxPart;
      const id = list.ids[p]!;
      const cur = scores.get(id);
      if (cur === undefined) scores.set(id, { score: add, supporters: 0, similarItems: true });
      else {
        cur.score += add;
        cur.similarItems = true;
      }
    }
  }
  max = 0;
  for (const c of scores.values()) if (c.score > max) max = c.score;
  return { scores, max };
}
