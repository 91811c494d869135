/**
 * How far apart a stored list and a build's are (pure): what decides whether the loader rewrites
 * a list (item-model-loader.ts, loader-passes.ts).
 */
import { type PackedList, unpackList } from '../domain/item-model/item-model.ts';

/** Below this, two weights are the same number (float32 storage; the engines' parallel sums). */
const FLOAT_NOISE = 2 ** -20;

/**
 * How far apart two lists are, as scores see them: the largest change of any neighbour's weight
 * (0 where a list lacks it) relative to the larger top weight. 0 for equal lists; a reordering
 * of near-equal neighbours or a tail neighbour swapped for another is small, a new strong
 * neighbour is large.
 */
export function listDrift(a: PackedList, b: PackedList): number {
  if (a.ids === b.ids && a.weights.byteLength === b.weights.byteLength) {
    const wa = unpackList(a).weights;
    const wb = unpackList(b).weights;
    let top = 0;
    let d = 0;
    for (let i = 0; i < wa.length; i++) {
      top = Math.max(top, Math.abs(wa[i]!), Math.abs(wb[i]!));
      d = Math.max(d, Math.abs(wa[i]! - wb[i]!));
    }
    return top > 0 ? d / top : 0;
  }
  const la = unpackList(a);
  const lb = unpackList(b);
  const w = new Map<string, number>();
  let top = 0;
  for (let i = 0; i < la.ids.length; i++) {
    w.set(la.ids[i]!, la.weights[i]!);
    top = Math.max(top, Math.abs(la.weights[i]!));
  }
  let d = 0;
  for (let i = 0; i < lb.ids.length; i++) {
    const x = lb.weights[i]!;
    top = Math.max(top, Math.abs(x));
    d = Math.max(d, Math.abs(x - (w.get(lb.ids[i]!) ?? 0)));
    w.delete(lb.ids[i]!);
  }
  for (const x of w.values()) d = Math.max(d, Math.abs(x));
  return top > 0 ? d / top : 0;
}

/**
 * Whether a stored list may stay: within `tolerance` (listDrift) of the build's. At tolerance 0
 * only float noise passes.
 */
export function sameList(a: PackedList | undefined, b: PackedList | undefined, tolerance = 0): boolean {
  if (!a || !b) return a === b;
  return listDrift(a, b) <= Math.max(tolerance, FLOAT_NOISE);
}
