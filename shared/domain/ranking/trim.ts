/**
 * Keeping the best `size` candidates of a list: each component's top few first (so its maximum,
 * the read-time normalizer, survives a few fresh plays that exclude the top items), then by
 * blended score. Used by the build (`buildCandidates`) and to fit a set into one write unit.
 */
import { blendComponents, byId } from './blend.ts';
import { DEFAULT_RANKING, type RankingParams } from './params.ts';
import type { CandidateList } from './types.ts';

/**
 * Share of `size` reserved for the top items of each component (user-neighbour, item, content)
 * before filling by blended score: read time normalizes each component by its max over what is
 * still allowed, so those maxima must survive a few fresh plays that exclude the top items.
 */
const COMPONENT_RESERVE = 0.05;

/**
 * The best `size` of a list, as `buildCandidates` keeps them: each component's top few first
 * (so its maximum, the read-time normalizer, survives), then by blended score. Also used to fit a
 * built set into a byte budget (one write unit).
 */
export function trimCandidates(
  full: CandidateList,
  size: number,
  params: RankingParams = DEFAULT_RANKING,
): { list: CandidateList; droppedBest: number } {
  const ids = full.ids;
  const n = ids.length;
  if (n <= size) return { list: full, droppedBest: 0 };

  const all = Array.from({ length: n }, (_, p) => p);
  const { scores, max } = blendComponents(full, all, params);
  const blended = Float64Array.from(ids, (id) => (max > 0 ? (scores.get(id)?.score ?? 0) / max : 0));

  const kept = new Set<number>();
  const rankBy = (values: ArrayLike<number>): number[] =>
    all.filter((p) => values[p]! > 0).sort((a, b) => values[b]! - values[a]! || byId(ids[a]!, ids[b]!));
  const reserve = Math.max(1, Math.ceil(size * COMPONENT_RESERVE));
  const components = [full.collab, full.item, full.content].flatMap((v) => (v ? [rankBy(v).slice(0, reserve)] : []));
  // Interleaved by rank so that even a tiny `size` keeps every component's maximum.
  for (let r = 0; r < reserve; r++)
    for (const top of components) if (r < top.length && kept.size < size) kept.add(top[r]!);
  const byBlend = [...all].sort((a, b) => blended[b]! - blended[a]! || byId(ids[a]!, ids[b]!));
  let droppedBest = 0;
  for (const p of byBlend) {
    if (kept.has(p)) continue;
    if (kept.size < size) kept.add(p);
    else {
      droppedBest = blended[p]!;
      break;
    }
  }
  const positions = [...kept].sort((a, b) => a - b); // id order, as `full`
  return { list: subsetCandidates(full, positions), droppedBest };
}

function subsetCandidates(list: CandidateList, positions: readonly number[]): CandidateList {
  const pick = <T extends Float64Array | Uint16Array>(v: T, make: (n: number) => T): T => {
    const out = make(positions.length);
    positions.forEach((p, i) => {
      out[i] = v[p]!;
    });
    return out;
  };
  return {
    kind: list.kind,
    ids: positions.map((p) => list.ids[p]!),
    collab: pick(list.collab, (n) => new Float64Array(n)),
    supporters: pick(list.supporters, (n) => new Uint16Array(n)),
    item: list.item ? pick(list.item, (n) => new Float64Array(n)) : undefined,
    content: list.content ? pick(list.content, (n) => new Float64Array(n)) : undefined,
  };
}
