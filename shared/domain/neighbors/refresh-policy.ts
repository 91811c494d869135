/**
 * When a user's neighbours are refreshed and when their index entry is rewritten: both compare
 * the genre vector with the one last used (drift = 1 − cosine), so small moves cost no writes.
 */
import { normalized, unitDot } from './neighbor-cells.ts';
import { decodeVector } from './taste-codec.ts';

export interface RefreshPolicy {
  minIntervalMs: number;
  /** 1 − cosine(last snapshot, current) at or above which a refresh is due. */
  minDrift: number;
  /**
   * A list holding fewer neighbours than this (K) is not finished: the interval does not hold its
   * next refresh back (the drift still must be reached). A first refresh that ran while the index
   * was nearly empty — a new deployment, or refreshes racing in parallel partitions that cannot
   * see each other's entries yet — otherwise kept its near-empty list for a whole interval, and
   * longer when no further update came (issue #27). Unset: the interval always holds.
   */
  fullList?: number | undefined;
}

/**
 * Whether a user's neighbours should be recomputed now. `listSize`: neighbours in the stored list
 * (matters only with `policy.fullList`).
 */
export function shouldRefresh(
  lastSnapshotVector: ArrayLike<number> | undefined,
  currentVector: ArrayLike<number>,
  lastRefreshTs: number | undefined,
  now: number,
  policy: RefreshPolicy,
  listSize = Number.POSITIVE_INFINITY,
): boolean {
  if (lastSnapshotVector === undefined || lastRefreshTs === undefined) return true;
  const unfinished = policy.fullList !== undefined && listSize < policy.fullList;
  if (!unfinished && now - lastRefreshTs < policy.minIntervalMs) return false;
  const a = normalized(lastSnapshotVector);
  const b = normalized(currentVector);
  const za = a.every((x) => x === 0);
  const zb = b.every((x) => x === 0);
  if (za || zb) return za !== zb;
  const drift = 1 - unitDot(a, b);
  return drift >= policy.minDrift;
}

export interface IndexedState {
  cell: string;
  /** `encodeVector` output the entry was written with ('' when unknown). */
  indexedVec: string;
  indexedArtistsKey: number;
}

/**
 * Whether a refreshed user's index entry must be rewritten: it moved cell, or its genre vector
 * drifted by at least `minDrift` (1 − cosine) from what the entry holds, or its strongest artists
 * changed. Others rank the user by the entry, so small drifts are left until they add up.
 */
export function indexRewriteDue(
  previous: IndexedState | undefined,
  next: { cell: string; vector: ArrayLike<number>; artistsKey: number },
  minDrift: number,
): boolean {
  if (!previous || previous.indexedVec === '' || previous.cell !== next.cell) return true;
  if (previous.indexedArtistsKey !== next.artistsKey) return true;
  const a = normalized(decodeVector(previous.indexedVec));
  const b = normalized(next.vector);
  return 1 - unitDot(a, b) >= minDrift;
}
