/**
 * Items similar to one item, from its item model lists, with the reason each item is there: what
 * `GET /tracks/{id}/similar` and `GET /artists/{id}/similar` answer, and what the evaluation's
 * item-to-item check ranks.
 *
 * Co-listening decides, content fills in: the item's co-listening list (RP3beta weights) in its
 * own order first, then the items only its content list holds (tag cosine order), so an item the
 * last build saw few listeners of still has an answer, and every item both lists hold says so.
 * A weighted blend of the two (the ranking's ω : κ, 0.75 : 0.25) put tag-alike items above
 * co-listened ones and lost hit rate@10 on Last.fm (0.524 against 0.536 for the co-listening list
 * alone, seed 42; no blend weight gained on the validation splits: EVALUATION.md, "Item to item").
 */

import type { SeedLists } from './session.ts';
import type { PreparedItems } from './types.ts';

export interface SimilarItem {
  id: string;
  /**
   * In (0, 1]: a co-listened item's weight over the top one's; an item only tagged alike scores
   * below every co-listened item answered (its tag cosine scaled to the last one's score).
   */
  score: number;
  /** In the item's co-listening list: played by the same listeners. */
  together: boolean;
  /** In the item's content list: tagged alike. */
  tagged: boolean;
}

/** The list's entries (not `id` itself, none excluded) in list order, with their weight over the top one's. */
function entries(
  list: PreparedItems | undefined,
  id: string,
  exclude: ((id: string) => boolean) | undefined,
): [string, number][] {
  const out: [string, number][] = [];
  if (!list) return out;
  let top = 0;
  for (const x of list.weights) if (x > top) top = x;
  if (!(top > 0)) return out;
  for (let k = 0; k < list.ids.length; k++) {
    const other = list.ids[k]!;
    const x = list.weights[k]!;
    if (x > 0 && other !== id && !exclude?.(other)) out.push([other, x / top]);
  }
  // Lists are stored by weight, then id; sort anyway so a hand-made list answers the same.
  return out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function similarItems(
  id: string,
  lists: SeedLists | undefined,
  limit: number,
  exclude?: (id: string) => boolean,
): SimilarItem[] {
  if (!lists || limit <= 0) return [];
  const tagged = new Set(lists.content?.ids ?? []);
  const out: SimilarItem[] = [];
  const seen = new Set<string>();
  for (const [other, score] of entries(lists.similar, id, exclude)) {
    if (out.length === limit) return out;
    out.push({ id: other, score, together: true, tagged: tagged.has(other) });
    seen.add(other);
  }
  const scale = out.at(-1)?.score ?? 1;
  for (const [other, score] of entries(lists.content, id, exclude)) {
    if (out.length === limit) break;
    if (!seen.has(other)) out.push({ id: other, score: score * scale, together: false, tagged: true });
  }
  return out;
}
