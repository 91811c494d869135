/**
 * The collaborative part of the formula over a candidate list's allowed positions:
 *
 *   collab'(i) = (1 − ω) · collab(i) / max collab + ω · item(i) / max item + κ · content(i) / max content
 *
 * each max taken over what is still allowed. Read by the read-time ranking (rank.ts) and by the
 * trimming that keeps the best candidates (trim.ts).
 */
import type { RankingParams } from './params.ts';
import type { CandidateList, CollaborativeScore } from './types.ts';

/** Ids in code-unit order: candidate lists are sorted by it (stable bytes, ties broken alike). */
export const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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
