/**
 * The item-list parts of the ranking: Σ over seed items i of W[i, j], where W is an item model
 * list (co-listening or content, see item-model/item-neighbors.ts for how they are built). Seeds are the
 * user's own items (long-term part) or the session's recent ones (the "now" part).
 */
import type { PreparedItems } from './types.ts';

/**
 * Item-based scores for a user: Σ over the user's own items i of W[i, j], for every j not
 * excluded. `neighborsOf` returns an item's list (undefined when unknown).
 */
export function scoreItemNeighbors(
  ownItems: Iterable<string>,
  neighborsOf: (id: string) => PreparedItems | undefined,
  exclude?: (id: string) => boolean,
  out: Map<string, number> = new Map(),
): Map<string, number> {
  for (const i of ownItems) {
    const l = neighborsOf(i);
    if (!l) continue;
    for (let t = 0; t < l.ids.length; t++) {
      const j = l.ids[t]!;
      const w = l.weights[t]!;
      if (!(w > 0) || exclude?.(j)) continue;
      out.set(j, (out.get(j) ?? 0) + w);
    }
  }
  return out;
}
