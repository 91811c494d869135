/**
 * Items similar to one item, from its item model lists: the same blend of co-listening and
 * content the ranking uses (ω : κ, each list normalized by its top weight), with the reason each
 * item is there. What `GET /tracks/{id}/similar` and `GET /artists/{id}/similar` answer, and what
 * the evaluation's item-to-item check ranks.
 */
import { nowScores, type SeedLists } from './session.ts';

export interface SimilarItem {
  id: string;
  /** In (0, 1]: relative to the most similar item. */
  score: number;
  /** In the item's co-listening list: played by the same listeners. */
  together: boolean;
  /** In the item's content list: tagged alike. */
  tagged: boolean;
}

export function similarItems(
  id: string,
  lists: SeedLists | undefined,
  weights: { itemBlend: number; contentBlend: number },
  limit: number,
  exclude?: (id: string) => boolean,
): SimilarItem[] {
  if (!lists) return [];
  const scores = nowScores(new Map([[id, 1]]), () => lists, weights, exclude);
  const together = new Set(lists.similar?.ids ?? []);
  const tagged = new Set(lists.content?.ids ?? []);
  return [...scores]
    .sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([other, s]) => ({ id: other, score: s.score, together: together.has(other), tagged: tagged.has(other) }));
}
