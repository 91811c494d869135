/**
 * What a batch of profile updates makes the neighbour updater do, without I/O: who is refreshed
 * (the newest update per user, when the profile moved enough or the item model changed), which
 * index entries are put and deleted, the list each refresh stores, and which other users' lists a
 * refreshed user enters (reverse insertions). The handler reads the stored lists and the item model
 * before, and runs the search and the writes around these decisions.
 */
import type { ProfileUpdateV1 } from '../events/events.ts';
import { genreVector, type TasteFeatures } from '../similarity.ts';
import { cellOf } from './neighbor-cells.ts';
import type { NeighborList } from './neighbor-list-codec.ts';
import { indexTaste, mergeNeighbors, type Neighbor } from './neighbor-search.ts';
import { indexRewriteDue, type RefreshPolicy, shouldRefresh } from './refresh-policy.ts';
import { artistSketchKey, decodeArtistSketch, decodeVector, encodeVector } from './taste-codec.ts';
import { packTopItems } from './top-items-codec.ts';

export interface Refresh {
  update: ProfileUpdateV1;
  previous: NeighborList | undefined;
  /** Whether the user's index entry moved enough to be rewritten (`indexRewriteDue`). */
  indexDue: boolean;
  artistsKey: number;
  /** Genre vector + artist sketch: what the search ranks candidates against. */
  taste: TasteFeatures;
  /** `encodeVector` of the genre vector: the list's snapshot and, when rewritten, the entry's vector. */
  encoded: string;
  cell: string;
}

export interface RefreshPlan {
  refreshes: Refresh[];
  /** Updates older than the stored list (or the same version under the same item model). */
  stale: number;
  /** Entries of the refreshed users whose entry moved materially… */
  indexPuts: IndexPut[];
  /** …and the entries of the cells they left. */
  indexDeletes: { cell: string; userId: string }[];
}

export interface RefreshContext {
  now: number;
  /** The item model key the candidates are built under (`candidatesModelKey`). */
  modelKey: string;
  policy: RefreshPolicy;
  /** Genre drift (1 − cosine) from the indexed vector at which an index entry is rewritten. */
  indexMinDrift: number;
  /** The artist weights tastes are ranked with (the item model's IDF), if any. */
  artistWeight?: ((id: string) => number) | undefined;
}

/** Only the newest update per user matters. */
export function newestPerUser(updates: Iterable<ProfileUpdateV1>): Map<string, ProfileUpdateV1> {
  const latest = new Map<string, ProfileUpdateV1>();
  for (const update of updates) {
    const seen = latest.get(update.userId);
    if (!seen || update.version > seen.version) latest.set(update.userId, update);
  }
  return latest;
}

/**
 * Who is refreshed and what the index gets: an older update changes nothing, the same version is
 * refreshed again only to rebuild candidates under a new item model; otherwise a refresh is due
 * when `shouldRefresh` says so (a list shorter than `policy.fullList` is not held back by the
 * interval) or the item model changed. Of the refreshed users, only entries
 * that moved materially are rewritten: others rank the user by the entry, and a small drift
 * changes nobody's list.
 */
export function planRefreshes(
  latest: Iterable<ProfileUpdateV1>,
  lists: ReadonlyMap<string, NeighborList>,
  ctx: RefreshContext,
): RefreshPlan {
  const refreshes: Refresh[] = [];
  let stale = 0;
  for (const update of latest) {
    const previous = lists.get(update.userId);
    const modelChanged = previous !== undefined && previous.candidatesModelId !== ctx.modelKey;
    if (
      previous &&
      (previous.profileVersion > update.version || (previous.profileVersion === update.version && !modelChanged))
    ) {
      stale++;
      continue;
    }
    const vector = genreVector(update.genres);
    const due = shouldRefresh(
      previous ? decodeVector(previous.snapshot) : undefined,
      vector,
      previous?.refreshedAt,
      ctx.now,
      ctx.policy,
      previous?.neighbors.length,
    );
    // A new item model also rebuilds the user's candidates (with a refresh) on their next update.
    if (!due && !modelChanged) continue;
    const encoded = encodeVector(vector);
    const cell = cellOf(decodeVector(encoded));
    const artistsKey = artistSketchKey(update.artists);
    refreshes.push({
      update,
      previous,
      indexDue: indexRewriteDue(previous, { cell, vector, artistsKey }, ctx.indexMinDrift),
      artistsKey,
      taste: indexTaste(vector, update.artists, ctx.artistWeight),
      encoded,
      cell,
    });
  }
  const moved = refreshes.filter((r) => r.indexDue);
  return {
    refreshes,
    stale,
    indexPuts: moved.map(indexPutOf),
    indexDeletes: moved
      .filter((r) => r.previous?.cell && r.previous.cell !== r.cell)
      .map((r) => ({ cell: r.previous!.cell, userId: r.update.userId })),
  };
}

/**
 * One user's entry in the index table (PK `cell`, SK `userId`; the adapter's `IndexEntry`): the
 * genre vector, the artist sketch and the packed top items the update carries.
 */
export type IndexPut = ReturnType<typeof indexPutOf>;

function indexPutOf({ cell, encoded, update }: Refresh) {
  return {
    cell,
    userId: update.userId,
    vec: encoded,
    ...(update.artists ? { artists: update.artists } : {}),
    ...(update.topTracks || update.topArtists
      ? { top: packTopItems(decodeArtistSketch(update.topTracks), decodeArtistSketch(update.topArtists)) }
      : {}),
    profileVersion: update.version,
  };
}

/** The list a refresh stores: its neighbours, what it was computed for, and what the index now holds. */
export function refreshedList(
  r: Refresh,
  neighbors: Neighbor[],
  written: { now: number; modelKey: string; candidatesTopKey: number },
): NeighborList {
  return {
    userId: r.update.userId,
    neighbors,
    refreshedAt: written.now,
    snapshot: r.encoded,
    profileVersion: r.update.version,
    cell: r.cell,
    indexedVec: r.indexDue ? r.encoded : r.previous!.indexedVec,
    indexedArtistsKey: r.indexDue ? r.artistsKey : r.previous!.indexedArtistsKey,
    candidatesModelId: written.modelKey,
    candidatesTopKey: written.candidatesTopKey,
    rev: (r.previous?.rev ?? 0) + 1,
  };
}

/**
 * The lists refreshed users may enter, by owner: each user's closest `fanout` neighbours (the lists
 * the user most likely belongs in; each one considered costs a read), except users refreshed in
 * this batch already.
 */
export function reverseCandidates(
  computed: ReadonlyMap<string, readonly Neighbor[]>,
  fanout: number,
): Map<string, Neighbor[]> {
  const wanted = new Map<string, Neighbor[]>();
  for (const [userId, neighbors] of computed) {
    for (const n of neighbors.slice(0, fanout)) {
      if (computed.has(n.userId)) continue;
      let list = wanted.get(n.userId);
      if (!list) {
        list = [];
        wanted.set(n.userId, list);
      }
      list.push({ userId, similarity: n.similarity });
    }
  }
  return wanted;
}

/**
 * `list` with the candidates that enter it, or undefined when nobody enters: a member's similarity
 * drifting a little is not worth a write; the owner's own next refresh updates it. A list shorter
 * than `k` takes any absent candidate (it is still filling: a new deployment, a sparse taste); a
 * full list only one that lands among its first `fullListTop` (that beats its `fullListTop`-th
 * entry): a write costs a unit whatever it changes, and below the part a reader is shown a late
 * entrant changes nothing until the owner's own refresh recomputes the list anyway.
 */
export function withEntrants<L extends { neighbors: Neighbor[]; rev: number }>(
  list: L,
  candidates: readonly Neighbor[],
  k: number,
  fullListTop = k,
): L | undefined {
  const present = new Set(list.neighbors.map((n) => n.userId));
  const full = list.neighbors.length >= k;
  if (full && fullListTop <= 0) return undefined;
  const bar = full ? (list.neighbors[Math.min(fullListTop, list.neighbors.length) - 1]?.similarity ?? 0) : 0;
  const entering = candidates.filter((c) => !present.has(c.userId) && (!full || c.similarity > bar));
  if (entering.length === 0) return undefined;
  return { ...list, neighbors: mergeNeighbors(list.neighbors, entering, k), rev: list.rev + 1 };
}
